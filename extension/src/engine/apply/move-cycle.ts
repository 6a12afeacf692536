import type { SyncedEntry } from "../model/types.ts";
import type { Action, PullAction } from "../plan/actions.ts";
import type { LocalEntry } from "../scan/scanner.ts";
import { StateBatch } from "../state/state-store.ts";
import { applyPull } from "./apply-local.ts";
import { type ApplyContext, requireUnchanged, StaleLocalStateError } from "./context.ts";
import { parkPath, recordParked, repairParked } from "./park.ts";

/** Every member of a ring is a local item (checked before anything moves). */
const fromOf = (pull: PullAction) => pull.from as LocalEntry;

/**
 * Applies a ring of moves (see the `moveCycle` action): one member is parked, the others move last to
 * first, each into the place the one before freed, then the parked one. Every member must be as
 * scanned before anything moves; each rename still checks that its target is free, so nothing is ever
 * overwritten. If a step fails, the parked item goes back to its place when that is still free, else
 * where the server has it or beside it (see `repairParked`).
 */
export async function applyMoveCycle(ctx: ApplyContext, action: Extract<Action, { type: "moveCycle" }>) {
  for (const pull of action.pulls) {
    if (!pull.from) throw new Error("a move cycle moves local items");
    await requireUnchanged(ctx, pull.from);
  }
  // Any member may go first (the ring keeps its order): the first whose folder the records know,
  // so its record can point at its parking place.
  for (let start = 0; start < action.pulls.length; start++) {
    const ring = [...action.pulls.slice(start), ...action.pulls.slice(0, start)] as [
      PullAction,
      ...PullAction[],
    ];
    const first = ring[0];
    const source = fromOf(first).path;
    const parked = parkPath(source, first.fileId);
    if (await ctx.fs.lstat(parked)) throw new StaleLocalStateError(parked);
    const base = ctx.store.synced.get(first.fileId);
    if (!base || !(await recordParked(ctx.store, first.fileId, parked))) continue;
    try {
      await ctx.fs.rename(source, parked);
      ctx.touched.add(source);
      for (const pull of ring.slice(1).reverse()) await applyPull(ctx, pull);
      await applyPull(ctx, {
        ...first,
        from: { ...fromOf(first), path: parked },
      });
    } catch (error) {
      // Whatever this leaves parked, the next full scan brings back (the record names the parking place).
      await unpark(ctx, first, parked, base).catch(() => {});
      throw error;
    } finally {
      ctx.touched.delete(parked);
    }
    return;
  }
  throw new StaleLocalStateError(fromOf(action.pulls[0] as PullAction).path);
}

async function unpark(
  ctx: ApplyContext,
  first: PullAction,
  parked: string,
  base: SyncedEntry,
): Promise<void> {
  const source = fromOf(first).path;
  const parkedStat = await ctx.fs.lstat(parked);
  const sourceStat = await ctx.fs.lstat(source);
  const backAtSource = async () => {
    await ctx.store.commit(new StateBatch().putSynced(base));
    ctx.touched.add(source);
  };
  if (!parkedStat && sourceStat?.inode === base.inode) return backAtSource(); // it never left
  if (parkedStat && !sourceStat) {
    try {
      await ctx.fs.rename(parked, source);
      return await backAtSource();
    } catch {
      // Refused (e.g. unsaved edits open there): put where the server has it, or beside.
    }
  }
  const at = await repairParked(ctx.fs, ctx.store, first.fileId, ctx.deviceName, async (inode) =>
    (await ctx.fs.lstat(first.to))?.inode === inode ? first.to : undefined,
  );
  if (at !== null) ctx.touched.add(at);
}
