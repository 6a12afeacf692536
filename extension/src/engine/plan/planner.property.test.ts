import { fileNameProblem } from "@wsync/shared-protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type RemoteEntry, type SyncedEntry, sameChunks } from "../model/types.ts";
import type { PullAction } from "./actions.ts";
import { matchLocal } from "./local-view.ts";
import { planSync } from "./planner.ts";
import { type Tree, world } from "./planner-fixtures.ts";

const names = ["a.txt", "b.txt", "c.md"];
const folders = ["", "d", "d/e"];
const content = fc.constantFrom("one", "two", "three", "");
const path = fc
  .tuple(fc.constantFrom(...folders), fc.constantFrom(...names))
  .map(([f, n]) => (f ? `${f}/${n}` : n));

type Op =
  | { kind: "edit"; index: number; content: string }
  | { kind: "delete"; index: number }
  | { kind: "move"; index: number; to: string }
  | { kind: "create"; path: string; content: string };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("edit" as const), index: fc.nat(), content }),
  fc.record({ kind: fc.constant("delete" as const), index: fc.nat() }),
  fc.record({ kind: fc.constant("move" as const), index: fc.nat(), to: path }),
  fc.record({ kind: fc.constant("create" as const), path, content }),
);

const scenario = fc.record({
  synced: fc.uniqueArray(fc.tuple(path, content), { selector: ([p]) => p, maxLength: 6 }),
  local: fc.array(op, { maxLength: 4 }),
  remote: fc.array(op, { maxLength: 4 }),
});

/** Builds a plan input from a synced tree and the operations each side made since. */
type Scenario = { synced: Array<[string, string]>; local: Op[]; remote: Op[] };

function build(s: Scenario) {
  const synced: Tree = { d: null, "d/e": null };
  for (const [p, c] of s.synced) synced[p] = c;
  const files = s.synced.map(([p]) => p);
  const local: Record<string, string | null | { content: string | null; inode: number }> = {};
  for (const [p, c] of Object.entries(synced))
    local[p] = { content: c, inode: 100 + Object.keys(synced).indexOf(p) };
  for (const o of s.local) {
    if (o.kind === "create") {
      if (!(o.path in local)) local[o.path] = o.content;
      continue;
    }
    const target = files[o.index % Math.max(files.length, 1)];
    if (!target || !(target in local)) continue;
    if (o.kind === "edit")
      local[target] = { content: o.content, inode: 100 + Object.keys(synced).indexOf(target) };
    if (o.kind === "delete") delete local[target];
    if (o.kind === "move" && !(o.to in local)) {
      local[o.to] = local[target] as { content: string; inode: number };
      delete local[target];
    }
  }
  const remote: Record<
    string,
    { path: string; content: string | null; version: number } | { deleted: true }
  > = {};
  const remotePaths = new Map(files.map((p) => [`id:${p}`, { path: p, content: synced[p] as string }]));
  let n = 0;
  for (const o of s.remote) {
    if (o.kind === "create") {
      if (![...remotePaths.values()].some((r) => r.path === o.path)) {
        const id = `new${n++}`;
        remotePaths.set(id, { path: o.path, content: o.content });
        remote[id] = { path: o.path, content: o.content, version: 1 };
      }
      continue;
    }
    const id = `id:${files[o.index % Math.max(files.length, 1)]}`;
    const current = remotePaths.get(id);
    if (!current || "deleted" in (remote[id] ?? {})) continue;
    if (o.kind === "delete") {
      remote[id] = { deleted: true };
      continue;
    }
    const next = o.kind === "edit" ? { ...current, content: o.content } : { ...current, path: o.to };
    if (o.kind === "move" && [...remotePaths.values()].some((r) => r.path === o.to)) continue;
    remotePaths.set(id, next);
    remote[id] = { ...next, version: 2 };
  }
  return world({ synced, local, remote });
}

describe("planSync, for any states of both sides", () => {
  it("never deletes or overwrites a local edit, never deletes a remote edit, never writes a bad path", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const input = build(s);
        const plan = planSync(input);
        const view = matchLocal(input.local, input.synced, input.isIgnored);
        const syncedOf = (p: string): SyncedEntry | undefined => {
          const id = view.byPath.get(p)?.fileId;
          return id ? input.synced.get(id) : undefined;
        };
        const unchangedHere = (p: string) => {
          const entry = input.local.get(p);
          const base = syncedOf(p);
          return (
            !!entry &&
            !!base &&
            (entry.kind === "folder" ||
              sameChunks(
                entry.chunks.map((c) => c.hash),
                base.chunks,
              ))
          );
        };
        for (const action of plan.actions) {
          if (action.type === "deleteLocal") {
            for (const entry of action.expected) expect(unchangedHere(entry.path)).toBe(true);
          }
          for (const pull of action.type === "pull"
            ? [action]
            : action.type === "moveCycle"
              ? action.pulls
              : []) {
            if (pull.content && pull.from) expect(unchangedHere(pull.from.path)).toBe(true);
            for (const segment of pull.to.split("/")) expect(fileNameProblem(segment)).toBeNull();
          }
          if (action.type === "deleteRemote") {
            const base = input.synced.get(action.fileId) as SyncedEntry;
            const there = input.remote.get(action.fileId) as RemoteEntry;
            if (!action.isFolder) expect(sameChunks(there.chunks, base.chunks)).toBe(true);
            // A rename there beats a delete here; a delete names the server's version, never a stale one.
            expect([there.parentId, there.name]).toEqual([base.parentId, base.name]);
            expect(action.version).toBe(there.version);
          }
        }
        // At most one step per item and per local path in a round.
        const ids = plan.actions.flatMap((a) =>
          a.type === "moveCycle"
            ? a.pulls.map((pull) => pull.fileId)
            : a.type === "pushMoveCycle"
              ? a.pushes.map((push) => push.fileId)
              : "fileId" in a && a.fileId
                ? [a.fileId]
                : [],
        );
        expect(new Set(ids).size).toBe(ids.length);
      }),
      { numRuns: 500 },
    );
  });

  it("is a pure function: the same states give the same plan", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const input = build(s);
        expect(planSync(input)).toEqual(planSync(input));
      }),
      { numRuns: 100 },
    );
  });

  it("plans nothing when neither side changed anything", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        expect(planSync(build({ ...s, local: [], remote: [] })).actions).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});

describe("the generated scenarios", () => {
  it("exercise every kind of step (so the properties above are not vacuous)", () => {
    const kinds = new Set<string>();
    for (const s of fc.sample(scenario, 2000))
      for (const action of planSync(build(s)).actions) kinds.add(action.type);
    // A ring of moves (moveCycle) comes up about once in 2,000 samples: required by none, allowed.
    kinds.delete("moveCycle");
    kinds.delete("pushMoveCycle"); // needs items changing kind: tested in push-cycles.test.ts
    expect([...kinds].sort()).toEqual(
      ["adopt", "conflictCopy", "createFile", "deleteLocal", "deleteRemote", "forget", "pull", "push"].sort(),
    );
  });
});

describe("planSync, for any permutation of paths among tracked files on the server", () => {
  const permuted = fc.uniqueArray(path, { minLength: 2, maxLength: 8 }).chain((files) =>
    fc.record({
      files: fc.constant(files),
      to: fc.shuffledSubarray(files, { minLength: files.length, maxLength: files.length }),
      editedThere: fc.array(fc.boolean(), { minLength: files.length, maxLength: files.length }),
      editedHere: fc.array(fc.boolean(), { minLength: files.length, maxLength: files.length }),
    }),
  );

  it("plans moves that run in the executor's order without ever writing onto another item, all in one round", () => {
    fc.assert(
      fc.property(permuted, ({ files, to, editedThere, editedHere }) => {
        const synced: Tree = { d: null, "d/e": null };
        files.forEach((file, i) => {
          synced[file] = `content ${i}`;
        });
        const inodeOf = (file: string) => 100 + Object.keys(synced).indexOf(file);
        const remote: Parameters<typeof world>[0]["remote"] = {};
        const local: Parameters<typeof world>[0]["local"] = { d: null, "d/e": null };
        const hereOnly = (i: number) => editedHere[i] === true && editedThere[i] !== true;
        files.forEach((file, i) => {
          const target = to[i] as string;
          if (target !== file || editedThere[i])
            remote[`id:${file}`] = {
              path: target,
              content: editedThere[i] ? `content ${i} there` : `content ${i}`,
              version: 2,
            };
          local[file] = { content: hereOnly(i) ? `content ${i} here` : `content ${i}`, inode: inodeOf(file) };
        });
        const plan = planSync(world({ synced, remote, local }));
        expect(plan.deferred).toEqual([]);

        // The disk as the executor leaves it: path to the item there.
        const disk = new Map<string, string>([
          ["d", "id:d"],
          ["d/e", "id:d/e"],
        ]);
        for (const file of files) disk.set(file, `id:${file}`);
        const edited = new Set(files.filter((_, i) => hereOnly(i)).map((file) => `id:${file}`));
        const move = (pull: PullAction, fromPath: string | null) => {
          // Never over another item, never a download over a local edit.
          expect([undefined, pull.fileId]).toContain(disk.get(pull.to));
          if (pull.content) expect(edited.has(pull.fileId)).toBe(false);
          if (fromPath !== null) {
            expect(disk.get(fromPath)).toBe(pull.fileId);
            disk.delete(fromPath);
          }
          disk.set(pull.to, pull.fileId);
        };
        for (const action of plan.actions) {
          if (action.type !== "moveCycle") continue;
          const [first, ...rest] = action.pulls as [PullAction, ...PullAction[]];
          expect(disk.get(first.from?.path as string)).toBe(first.fileId);
          disk.delete(first.from?.path as string); // parked
          for (const pull of rest.reverse()) move(pull, pull.from?.path ?? null);
          move(first, null);
        }
        // File pulls run in parallel: each target must already be free, whatever the order.
        const filePulls = plan.actions.filter(
          (a): a is PullAction => a.type === "pull" && !a.remote.isFolder,
        );
        for (const pull of filePulls) expect([undefined, pull.fileId]).toContain(disk.get(pull.to));
        for (const pull of filePulls) move(pull, pull.from?.path ?? null);

        const expected = new Map<string, string>([
          ["d", "id:d"],
          ["d/e", "id:d/e"],
        ]);
        files.forEach((file, i) => {
          expected.set(to[i] as string, `id:${file}`);
        });
        expect(new Map([...disk].sort())).toEqual(new Map([...expected].sort()));
      }),
      { numRuns: 500 },
    );
  });
});
