import { describe, expect, it } from "vitest";
import type { Action, Plan } from "./actions.ts";
import { planSync } from "./planner.ts";
import { world } from "./planner-fixtures.ts";

/** One line per action, so each test reads as the plan it expects. */
function summary(plan: Plan): string[] {
  return plan.actions.map((action: Action) => {
    switch (action.type) {
      case "push":
        return `push ${action.fileId}${action.content ? " content" : ""}${action.move ? ` move->${action.move.name}` : ""}`;
      case "pull":
        return `pull ${action.fileId} ${action.from?.path ?? "-"}->${action.to}${action.content ? " content" : ""}`;
      case "conflictCopy":
        return `conflictCopy ${action.path}->${action.copyPath}${action.fileId ? " detach" : ""}`;
      case "createFile":
      case "createFolder":
        return `${action.type} ${action.path} in ${"fileId" in action.parent ? action.parent.fileId : `new ${action.parent.newPath}`}`;
      case "deleteLocal":
        return `deleteLocal ${action.path} (${action.expected.length})`;
      case "moveCycle":
        return `moveCycle ${action.pulls.map((pull) => `${pull.from?.path}->${pull.to}${pull.content ? " content" : ""}`).join(", ")}`;
      default:
        return `${action.type} ${"fileId" in action ? action.fileId : ""}`;
    }
  });
}

const copy = (stem: string, ext = ".txt") => `${stem} (conflicted copy - laptop - 2026-03-15)${ext}`;

describe("planSync", () => {
  it("plans nothing when both sides still match what was synced", () => {
    expect(planSync(world({ synced: { src: null, "src/a.txt": "a", "b.txt": "b" } })).actions).toEqual([]);
  });

  it("sends a local edit as a commit", () => {
    const plan = planSync(
      world({ synced: { "a.txt": "a" }, local: { "a.txt": { content: "a2", inode: 100 } } }),
    );
    expect(summary(plan)).toEqual(["push id:a.txt content"]);
  });

  it("downloads a remote edit", () => {
    const plan = planSync(
      world({
        synced: { "a.txt": "a" },
        remote: { "id:a.txt": { path: "a.txt", content: "a2", version: 2 } },
      }),
    );
    expect(summary(plan)).toEqual(["pull id:a.txt a.txt->a.txt content"]);
  });

  it("keeps the local bytes as a conflicted copy when both sides edited differently", () => {
    const plan = planSync(
      world({
        synced: { "a.txt": "a" },
        remote: { "id:a.txt": { path: "a.txt", content: "theirs", version: 2 } },
        local: { "a.txt": { content: "mine", inode: 100 } },
      }),
    );
    expect(summary(plan)).toEqual([`conflictCopy a.txt->${copy("a")} detach`]);
  });

  it("links, without any transfer, when both sides made the same edit", () => {
    const plan = planSync(
      world({
        synced: { "a.txt": "a" },
        remote: { "id:a.txt": { path: "a.txt", content: "same", version: 2 } },
        local: { "a.txt": { content: "same", inode: 100 } },
      }),
    );
    expect(summary(plan)).toEqual(["adopt id:a.txt"]);
  });

  it("deletes on the server what was deleted here, and here what was deleted there", () => {
    expect(summary(planSync(world({ synced: { "a.txt": "a" }, local: {} })))).toEqual([
      "deleteRemote id:a.txt",
    ]);
    const plan = planSync(world({ synced: { "a.txt": "a" }, remote: { "id:a.txt": { deleted: true } } }));
    expect(summary(plan)).toEqual(["deleteLocal a.txt (1)"]);
  });

  it("edit wins over delete, on either side", () => {
    const deletedHere = planSync(
      world({
        synced: { "a.txt": "a" },
        remote: { "id:a.txt": { path: "a.txt", content: "a2", version: 2 } },
        local: {},
      }),
    );
    expect(summary(deletedHere)).toEqual(["pull id:a.txt -->a.txt content"]);
    const deletedThere = planSync(
      world({
        synced: { "a.txt": "a" },
        remote: { "id:a.txt": { deleted: true } },
        local: { "a.txt": { content: "a2", inode: 100 } },
      }),
    );
    expect(summary(deletedThere)).toEqual(["forget id:a.txt"]);
  });

  it("a rename there against a delete here: the rename wins, the item comes back under its new name", () => {
    const file = planSync(
      world({
        synced: { "a.txt": "a" },
        remote: { "id:a.txt": { path: "b.txt", content: "a", version: 2 } },
        local: {},
      }),
    );
    expect(summary(file)).toEqual(["pull id:a.txt -->b.txt content"]);
    const folder = planSync(
      world({
        synced: { d: null, "d/a.txt": "a", "d/e": null, "d/e/b.txt": "b" },
        remote: { "id:d": { path: "f", content: null, version: 2 } },
        local: {},
      }),
    );
    expect(summary(folder)).toEqual([
      "pull id:d -->f",
      "pull id:d/a.txt -->f/a.txt content",
      "pull id:d/e -->f/e",
      "pull id:d/e/b.txt -->f/e/b.txt content",
    ]);
  });

  it("a folder renamed there keeps no claim on what was deleted inside it here", () => {
    const plan = planSync(
      world({
        synced: { d: null, "d/a.txt": "a" },
        remote: { "id:d": { path: "f", content: null, version: 2 } },
        local: { d: { content: null, inode: 100 } },
      }),
    );
    expect(summary(plan)).toEqual(["deleteRemote id:d/a.txt", "pull id:d d->f"]);
  });

  it("a folder deleted there keeps what was moved into it here: the folder comes back, the rest goes", () => {
    const plan = planSync(
      world({
        synced: { d: null, "d/c.txt": "c", f: null, "f/g.txt": "g" },
        remote: { "id:f": { deleted: true }, "id:f/g.txt": { deleted: true } },
        local: {
          d: { content: null, inode: 100 },
          f: { content: null, inode: 102 },
          "f/g.txt": { content: "g", inode: 103 },
          "f/x.txt": { content: "c", inode: 101 },
        },
      }),
    );
    expect(summary(plan)).toEqual(["forget id:f", "deleteLocal f/g.txt (1)"]);
    expect(plan.deferred.map((d) => d.path)).toEqual(["f/x.txt"]);
  });

  it("a delete goes out at the version the server holds, not the synced one", () => {
    // A new version there with the same bytes at the same place (e.g. a restore): the delete wins.
    const plan = planSync(
      world({
        synced: { "a.txt": "a" },
        remote: { "id:a.txt": { path: "a.txt", content: "a", version: 3 } },
        local: {},
      }),
    );
    expect(plan.actions).toEqual([
      { type: "deleteRemote", fileId: "id:a.txt", path: "a.txt", isFolder: false, version: 3 },
    ]);
  });

  it("sends a rename as a move without content, and a folder rename as one move", () => {
    const file = planSync(
      world({ synced: { "a.txt": "a" }, local: { "b.txt": { content: "a", inode: 100 } } }),
    );
    expect(summary(file)).toEqual(["push id:a.txt move->b.txt"]);
    const folder = planSync(
      world({
        synced: { src: null, "src/a.ts": "a", "src/b.ts": "b" },
        local: {
          lib: { content: null, inode: 100 },
          "lib/a.ts": { content: "a", inode: 101 },
          "lib/b.ts": { content: "b", inode: 102 },
        },
      }),
    );
    expect(summary(folder)).toEqual(["push id:src move->lib"]);
  });

  it("moves a folder into a folder that is new here: the new folder first, the move next round", () => {
    const plan = planSync(
      world({
        synced: { d: null, "d/c.txt": "c" },
        local: { f: null, "f/x": { content: null, inode: 100 }, "f/x/c.txt": { content: "c", inode: 101 } },
      }),
    );
    expect(summary(plan)).toEqual(["createFolder f in null"]);
    expect(plan.deferred.map((d) => d.path)).toEqual(["f/x"]);
  });

  it("recognises a delete and a create of the same bytes as a move", () => {
    const plan = planSync(
      world({ synced: { "a.txt": "hello" }, local: { "b.txt": { content: "hello", inode: 999 } } }),
    );
    expect(summary(plan)).toEqual(["push id:a.txt move->b.txt"]);
  });

  it("applies a remote rename locally without downloading", () => {
    const plan = planSync(
      world({
        synced: { "a.txt": "a" },
        remote: { "id:a.txt": { path: "b.txt", content: "a", version: 2 } },
      }),
    );
    expect(summary(plan)).toEqual(["pull id:a.txt a.txt->b.txt"]);
  });

  it("on same-path creates links equal content and makes ours the conflicted copy otherwise", () => {
    const same = planSync(
      world({ remote: { r1: { path: "n.txt", content: "x", version: 1 } }, local: { "n.txt": "x" } }),
    );
    expect(summary(same)).toEqual(["adopt r1"]);
    const different = planSync(
      world({ remote: { r1: { path: "n.txt", content: "theirs", version: 1 } }, local: { "n.txt": "mine" } }),
    );
    expect(summary(different)).toEqual([`conflictCopy n.txt->${copy("n")}`, "pull r1 -->n.txt content"]);
  });

  it("creates new local folders before the files in them", () => {
    const plan = planSync(
      world({ local: { docs: null, "docs/a.md": "a", "docs/sub": null, "docs/sub/b.md": "b" } }),
    );
    expect(summary(plan)).toEqual([
      "createFolder docs in null",
      "createFile docs/a.md in new docs",
      "createFolder docs/sub in new docs",
      "createFile docs/sub/b.md in new docs/sub",
    ]);
  });

  it("keeps a remotely deleted folder that holds a local edit, deleting only what was unchanged", () => {
    const plan = planSync(
      world({
        synced: { d: null, "d/a.txt": "a", "d/b.txt": "b" },
        remote: { "id:d": { deleted: true } },
        local: {
          d: { content: null, inode: 100 },
          "d/a.txt": { content: "a", inode: 101 },
          "d/b.txt": { content: "b2", inode: 102 },
        },
      }),
    );
    expect(summary(plan).sort()).toEqual(["deleteLocal d/a.txt (1)", "forget id:d", "forget id:d/b.txt"]);
  });

  it("deletes a remotely deleted folder here in one step when nothing in it changed", () => {
    const plan = planSync(
      world({
        synced: { d: null, "d/a.txt": "a", "d/e": null, "d/e/b.txt": "b" },
        remote: { "id:d": { deleted: true } },
      }),
    );
    expect(summary(plan)).toEqual(["deleteLocal d (4)"]);
  });

  it("brings back a locally deleted folder when something new arrived in it, and deletes the rest", () => {
    const plan = planSync(
      world({
        synced: { d: null, "d/a.txt": "a" },
        remote: { r1: { path: "d/new.txt", content: "n", version: 1 } },
        local: {},
      }),
    );
    expect(summary(plan).sort()).toEqual([
      "deleteRemote id:d/a.txt",
      "pull id:d -->d",
      "pull r1 -->d/new.txt content",
    ]);
  });

  it("sends a local folder delete as one delete", () => {
    const plan = planSync(
      world({ synced: { d: null, "d/a.txt": "a", "d/e": null, "d/e/b": "b" }, local: {} }),
    );
    expect(summary(plan)).toEqual(["deleteRemote id:d"]);
  });

  it("never touches ignored paths, on either side", () => {
    const plan = planSync(
      world({
        synced: { "keep.txt": "k", "build/out.js": "o" },
        remote: { r1: { path: "build/new.js", content: "n", version: 1 } },
        local: { "keep.txt": { content: "k", inode: 100 } },
        ignored: (path) => path.startsWith("build"),
      }),
    );
    expect(plan.actions).toEqual([]);
  });

  it("never writes a server item whose name is not a valid path segment", () => {
    const plan = planSync(
      world({
        remote: {
          r1: { path: "..", content: "x", version: 1 },
          r2: { path: "ok.txt", content: "y", version: 1 },
        },
      }),
    );
    expect(summary(plan)).toEqual(["pull r2 -->ok.txt content"]);
  });

  it("moves remotely and locally in the same way: the server's place wins", () => {
    const plan = planSync(
      world({
        synced: { "a.txt": "a" },
        remote: { "id:a.txt": { path: "theirs.txt", content: "a", version: 2 } },
        local: { "mine.txt": { content: "a", inode: 100 } },
      }),
    );
    expect(summary(plan)).toEqual(["pull id:a.txt mine.txt->theirs.txt"]);
  });

  it("a move cycle (A moved into B on the server, B into A here): the server's move wins, B goes back", () => {
    const input = world({
      synced: { A: null, "A/a.txt": "a", B: null, "B/b.txt": "b" },
      remote: { "id:A": { path: "B/A", content: null, version: 2 } },
      local: {
        A: { content: null, inode: 100 },
        "A/a.txt": { content: "a", inode: 101 },
        "A/B": { content: null, inode: 102 },
        "A/B/b.txt": { content: "b", inode: 103 },
      },
    });
    const plan = planSync(input);
    // B leaves A first (to where the server has it), then A goes into B: a tree, nothing deleted.
    expect(summary(plan)).toEqual(["pull id:B A/B->B", "pull id:A A->B/A"]);
    expect(plan.deferred).toEqual([]);
  });

  it("a local move into a folder the same round moves out of the item is not mistaken for a cycle", () => {
    // Synced: X/P. Here: P moved to the root, then X into P. Both are local: the server can take both.
    const plan = planSync(
      world({
        synced: { X: null, "X/P": null },
        local: { P: { content: null, inode: 101 }, "P/X": { content: null, inode: 100 } },
      }),
    );
    expect(summary(plan).sort()).toEqual(["push id:X move->X", "push id:X/P move->P"]);
  });

  it("a swap of two names from the server is one ring of moves, not two deferred pulls", () => {
    const plan = planSync(
      world({
        synced: { "x.txt": "x", "y.txt": "y" },
        remote: {
          "id:x.txt": { path: "y.txt", content: "x", version: 2 },
          "id:y.txt": { path: "x.txt", content: "y", version: 2 },
        },
      }),
    );
    expect(summary(plan)).toEqual(["moveCycle x.txt->y.txt, y.txt->x.txt"]);
    expect(plan.deferred).toEqual([]);
  });

  it("a rotation of three names, one also edited there, is one ring whose edited member downloads", () => {
    const plan = planSync(
      world({
        synced: { "x.txt": "x", "y.txt": "y", "z.txt": "z" },
        remote: {
          "id:x.txt": { path: "y.txt", content: "x", version: 2 },
          "id:y.txt": { path: "z.txt", content: "y edited", version: 2 },
          "id:z.txt": { path: "x.txt", content: "z", version: 2 },
        },
      }),
    );
    expect(summary(plan)).toEqual(["moveCycle x.txt->y.txt, y.txt->z.txt content, z.txt->x.txt"]);
    expect(plan.deferred).toEqual([]);
  });

  it("a chain of moves is no ring: the head moves, the one waiting on its place waits a round", () => {
    const plan = planSync(
      world({
        synced: { "x.txt": "x", "y.txt": "y" },
        remote: {
          "id:x.txt": { path: "y.txt", content: "x", version: 2 },
          "id:y.txt": { path: "z.txt", content: "y", version: 2 },
        },
      }),
    );
    expect(summary(plan)).toEqual(["pull id:y.txt y.txt->z.txt"]);
    expect(plan.deferred).toEqual([{ path: "y.txt", reason: "the path is still taken by another item" }]);
  });

  it("a swap of two folders is one ring; what arrives in them waits until they have moved", () => {
    const plan = planSync(
      world({
        synced: { a: null, "a/f.txt": "f", b: null, "b/g.txt": "g" },
        remote: {
          "id:a": { path: "b", content: null, version: 2 },
          "id:b": { path: "a", content: null, version: 2 },
          n1: { path: "b/new.txt", content: "new in a", version: 1 },
        },
      }),
    );
    expect(summary(plan)).toEqual(["moveCycle a->b, b->a"]);
    expect(plan.deferred).toEqual([{ path: "a/new.txt", reason: "its folder is moving this round" }]);
  });
});
