import { fileNameProblem } from "@wsync/shared-protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type SyncedEntry, sameChunks } from "../model/types.ts";
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
          if (action.type === "pull") {
            if (action.content && action.from) expect(unchangedHere(action.from.path)).toBe(true);
            for (const segment of action.to.split("/")) expect(fileNameProblem(segment)).toBeNull();
          }
          if (action.type === "deleteRemote" && !action.isFolder) {
            const base = input.synced.get(action.fileId) as SyncedEntry;
            expect(
              sameChunks((input.remote.get(action.fileId) as { chunks: string[] }).chunks, base.chunks),
            ).toBe(true);
          }
        }
        // At most one step per item and per local path in a round.
        const ids = plan.actions.flatMap((a) => ("fileId" in a && a.fileId ? [a.fileId] : []));
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
    expect([...kinds].sort()).toEqual(
      ["adopt", "conflictCopy", "createFile", "deleteLocal", "deleteRemote", "forget", "pull", "push"].sort(),
    );
  });
});
