import type { Action, Deferred, Plan, PullAction } from "./actions.ts";

/**
 * Moves that wait on each other in a ring: each item's target is held by the next item, which is
 * itself waiting to move (a swap of two names, a rotation of three, a swap of two folders). No order
 * of plain renames frees any of their targets; the ring is applied as one step that first parks one
 * member under a temporary name.
 *
 * `blockedBy` maps each waiting item to the item holding its target. Returns the rings, each ordered
 * so that a member's target is held by the member after it (the last one's by the first); items that
 * wait on something outside a ring (a chain, resolved as its head moves) are in no ring.
 */
export function findMoveCycles(blockedBy: ReadonlyMap<string, string>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  for (const start of blockedBy.keys()) {
    if (done.has(start)) continue;
    // Each item waits on at most one other: follow the one path from here until it ends or repeats.
    const path: string[] = [];
    const onPath = new Map<string, number>();
    let current: string | undefined = start;
    while (current !== undefined && !done.has(current) && !onPath.has(current)) {
      onPath.set(current, path.length);
      path.push(current);
      current = blockedBy.get(current);
    }
    if (current !== undefined && onPath.has(current)) cycles.push(path.slice(onPath.get(current)));
    for (const id of path) done.add(id);
  }
  return cycles;
}

/**
 * Blocked pulls (each with the item holding its target) that wait on each other in a ring become one
 * moveCycle step; the others wait for a later round (the item holding their target moves away first).
 * Whatever lies in a folder of a ring waits too: its paths were planned from where the folders are
 * now, which the ring changes.
 */
export function planMoveCycles(
  blocked: ReadonlyMap<string, { pull: PullAction; by: string }>,
  planned: readonly Action[],
): Plan {
  const by = new Map([...blocked].map(([fileId, entry]) => [fileId, entry.by]));
  const inCycle = new Set<string>();
  const folders: string[] = [];
  const rings: Action[] = [];
  const deferred: Deferred[] = [];
  for (const cycle of findMoveCycles(by)) {
    const pulls = cycle.map((fileId) => (blocked.get(fileId) as { pull: PullAction }).pull);
    for (const pull of pulls) {
      inCycle.add(pull.fileId);
      if (pull.remote.isFolder && pull.from) folders.push(pull.to, pull.from.path);
    }
    rings.push({ type: "moveCycle", pulls });
  }
  for (const [fileId, { pull }] of blocked) {
    if (!inCycle.has(fileId))
      deferred.push({ path: pull.to, reason: "the path is still taken by another item" });
  }
  const inside = (path: string) => folders.some((folder) => path.startsWith(`${folder}/`));
  const kept = planned.filter((action) => {
    const paths = touchedPaths(action);
    if (!paths.some(inside)) return true;
    deferred.push({ path: paths[0] as string, reason: "its folder is moving this round" });
    return false;
  });
  return { actions: [...kept, ...rings], deferred };
}

/** The local paths an action changes after the rings move (earlier steps are unaffected). */
function touchedPaths(action: Action): string[] {
  switch (action.type) {
    case "pull":
      return action.from ? [action.to, action.from.path] : [action.to];
    case "deleteLocal":
    case "push":
    case "createFile":
    case "createFolder":
      return [action.path];
    case "pushMoveCycle":
      return action.pushes.map((push) => push.path);
    default:
      return [];
  }
}
