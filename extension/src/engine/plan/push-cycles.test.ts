import { fileNameProblem } from "@wsync/shared-protocol";
import { describe, expect, it } from "vitest";
import type { Action } from "./actions.ts";
import { planSync } from "./planner.ts";
import { world } from "./planner-fixtures.ts";
import { parkNames } from "./push-cycles.ts";

function summary(actions: readonly Action[]): string[] {
  return actions.map((action) => {
    switch (action.type) {
      case "push":
        return `push ${action.fileId}${action.content ? " content" : ""}${action.move ? ` move->${action.move.name}` : ""}`;
      case "pushMoveCycle":
        return `pushMoveCycle ${action.pushes.map((p) => `${p.fileId}->${p.move?.name}${p.content ? " content" : ""}`).join(", ")}`;
      default:
        return action.type;
    }
  });
}

/** Inodes as the fixture gives them: 100 + the path's place among the synced paths. */
const synced = { kind: null, "kind/x": "a file called x", "kind/y": null, "kind/y/inner.txt": "inner" };
const inode = (path: keyof typeof synced) => 100 + Object.keys(synced).indexOf(path);

describe("planSync: rings of local moves", () => {
  it("a file and a folder trading names here are one ring of moves, parked under a valid name", () => {
    const plan = planSync(
      world({
        synced,
        local: {
          kind: null,
          "kind/y": { content: "a file called x", inode: inode("kind/x") },
          "kind/x": { content: null, inode: inode("kind/y") },
          "kind/x/inner.txt": { content: "inner", inode: inode("kind/y/inner.txt") },
        },
      }),
    );
    expect(summary(plan.actions)).toEqual(["pushMoveCycle id:kind/x->y, id:kind/y->x"]);
    expect(plan.deferred).toEqual([]);
    const ring = plan.actions[0] as Extract<Action, { type: "pushMoveCycle" }>;
    expect(ring.parkName).toMatch(/^x\.wsync-move-[0-9a-f]{12}$/);
    expect(fileNameProblem(ring.parkName)).toBeNull();
  });

  it("an edit of a ring member goes with the ring, committed as its content", () => {
    const plan = planSync(
      world({
        synced,
        local: {
          kind: null,
          "kind/y": { content: "a file called x, edited", inode: inode("kind/x") },
          "kind/x": { content: null, inode: inode("kind/y") },
          "kind/x/inner.txt": { content: "inner", inode: inode("kind/y/inner.txt") },
        },
      }),
    );
    expect(summary(plan.actions)).toEqual(["pushMoveCycle id:kind/x->y content, id:kind/y->x"]);
  });

  it("a parking name the rules here ignore is not used; with none usable, the moves go as before", () => {
    const swapped = (ignored: (path: string) => boolean) =>
      planSync(
        world({
          synced,
          local: {
            kind: null,
            "kind/y": { content: "a file called x", inode: inode("kind/x") },
            "kind/x": { content: null, inode: inode("kind/y") },
            "kind/x/inner.txt": { content: "inner", inode: inode("kind/y/inner.txt") },
          },
          ignored,
        }),
      );
    const plan = swapped((path) => path.startsWith("kind/x.wsync-move-"));
    expect(summary(plan.actions)).toEqual(["pushMoveCycle id:kind/x->y, id:kind/y->x"]);
    expect((plan.actions[0] as Extract<Action, { type: "pushMoveCycle" }>).parkName).toMatch(
      /^wsync-move-[0-9a-f]{12}$/,
    );
    const none = swapped((path) => path.includes("wsync-move-"));
    expect(summary(none.actions).sort()).toEqual(["push id:kind/x move->y", "push id:kind/y move->x"]);
  });

  it("a chain of local moves is no ring: the head moves now, the one waiting on its name next round", () => {
    // The folder b went to c, then the file a took the name b.
    const plan = planSync(
      world({
        synced: { a: "content of a", b: null, "b/in.txt": "in b" },
        local: {
          b: { content: "content of a", inode: 100 },
          c: { content: null, inode: 101 },
          "c/in.txt": { content: "in b", inode: 102 },
        },
      }),
    );
    expect(summary(plan.actions)).toEqual(["push id:b move->c"]);
    expect(plan.deferred).toEqual([{ path: "b", reason: "the path is still taken by another item" }]);
  });

  it("a move onto a name held by an item that stays is left to the server's refusal", () => {
    const plan = planSync(
      world({
        synced: { a: "content of a", b: null },
        local: { b: null, "b2.txt": { content: "content of a", inode: 100 } },
        remote: { n1: { path: "b2.txt", content: "made there", version: 1 } },
      }),
    );
    expect(summary(plan.actions)).toContain("push id:a move->b2.txt");
    expect(plan.actions.some((action) => action.type === "pushMoveCycle")).toBe(false);
  });

  it("a ring member the server holds under its parking name, unrecorded here, is recorded there, not pulled", () => {
    const moved = {
      kind: null,
      "kind/y": { content: "a file called x", inode: inode("kind/x") },
      "kind/x": { content: null, inode: inode("kind/y") },
      "kind/x/inner.txt": { content: "inner", inode: inode("kind/y/inner.txt") },
    };
    const parked = (name: string) =>
      planSync(
        world({
          synced,
          local: moved,
          remote: { "id:kind/x": { path: `kind/${name}`, content: "a file called x", version: 2 } },
        }),
      );
    const plan = parked(parkNames("id:kind/x", 1, "x")[0] as string);
    // x's name is free there now: y goes this round (a chain, no longer a ring); x next round.
    expect(summary(plan.actions)).toEqual(["adopt", "push id:kind/y move->x"]);
    expect(plan.actions[0]).toMatchObject({ fileId: "id:kind/x", path: "kind/y" });
    // Another name (a rename made there): the server's place wins, as for any move on both sides.
    expect(summary(parked("renamed there").actions)).toContain("pull");
  });

  it("a move onto the name of an item deleted here waits for the delete; a create onto its own name waits too", () => {
    // A rotation of a file x, a folder y and a file z (z -> x, y -> z, x -> y): x is matched by path
    // (an edit), z is deleted, the file at y is new.
    const plan = planSync(
      world({
        synced: { x: "content of x", y: null, "y/inner.txt": "inner", z: "content of z" },
        local: {
          x: { content: "content of z", inode: 103 },
          y: { content: "content of x", inode: 100 },
          z: { content: null, inode: 101 },
          "z/inner.txt": { content: "inner", inode: 102 },
        },
      }),
    );
    expect(summary(plan.actions).sort()).toEqual(["deleteRemote", "push id:x content"]);
    expect(plan.deferred).toEqual([
      { path: "z", reason: "the path is still taken by another item" },
      { path: "y", reason: "the name is still taken by an item moving away" },
    ]);
  });

  it("a folder made here on the name of an item moving away waits a round, with what is in it", () => {
    const plan = planSync(
      world({
        synced: { x: "content of x" },
        local: { x2: { content: "content of x", inode: 100 }, x: null, "x/new.txt": "new", "x/sub": null },
      }),
    );
    expect(summary(plan.actions)).toEqual(["push id:x move->x2"]);
    expect(plan.deferred.map((d) => `${d.path}: ${d.reason}`).sort()).toEqual([
      "x/new.txt: its folder is not on the server yet",
      "x/sub: its folder is not on the server yet",
      "x: the name is still taken by an item moving away",
    ]);
  });

  it("a ring of local moves inside a folder that a ring from the server moves waits for that ring", () => {
    const plan = planSync(
      world({
        synced: { a: null, "a/x": "a file called x", "a/y": null, "a/y/in.txt": "in", b: null },
        remote: {
          "id:a": { path: "b", content: null, version: 2 },
          "id:b": { path: "a", content: null, version: 2 },
        },
        local: {
          a: null,
          b: null,
          "a/y": { content: "a file called x", inode: 101 },
          "a/x": { content: null, inode: 102 },
          "a/x/in.txt": { content: "in", inode: 103 },
        },
      }),
    );
    expect(plan.actions.map((action) => action.type)).toEqual(["moveCycle"]);
    expect(plan.deferred.map((d) => d.reason)).toEqual(["its folder is moving this round"]);
  });
});
