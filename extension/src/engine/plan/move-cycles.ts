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
