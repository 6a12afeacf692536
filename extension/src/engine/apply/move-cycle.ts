import type { Action } from "../plan/actions.ts";
import { StateBatch } from "../state/state-store.ts";
import { applyPull } from "./apply-local.ts";
import { type ApplyContext, requireUnchanged, StaleLocalStateError } from "./context.ts";
import { parkPath, recordParked, repairParked } from "./park.ts";

/**
 * Applies a ring of moves (see the `moveCycle` action): the first member is parked, the others move
 * last to first, each into the place the one before freed, then the parked one. Every member must be
 * as scanned before anything moves; each rename still checks that its target is free, so nothing is
 * ever overwritten. If a step fails, the parked item goes back to its place when that is still free,
 * else where the server has it or beside it (see `repairParked`).
 */
export async function applyMoveCycle(ctx: ApplyContext, action: Extract<Action, { type: "moveCycle" }>) {
  const [first, ...rest] = action.pulls;
  if (!first?.from) throw new Error("a move cycle starts with a local item");
  for (const pull of action.pulls) if (pull.from) await requireUnchanged(ctx, pull.from);
  const source = first.from.path;
  const parked = parkPath(source, first.fileId);
  if (await ctx.fs.lstat(parked)) throw new StaleLocalStateError(parked);
  const base = ctx.store.synced.get(first.fileId);
  if (!base || !(await recordParked(ctx.store, first.fileId, parked))) throw new StaleLocalStateError(source);
  try {
    await ctx.fs.rename(source, parked);
    ctx.touched.add(source);
    for (const pull of rest.reverse()) await applyPull(ctx, pull);
    await applyPull(ctx, { ...first, from: { ...first.from, path: parked } });
  } catch (error) {
    const parkedStat = await ctx.fs.lstat(parked);
    const sourceStat = await ctx.fs.lstat(source);
    if (parkedStat && !sourceStat) await ctx.fs.rename(parked, source);
    if ((parkedStat && !sourceStat) || sourceStat?.inode === base.inode) {
      await ctx.store.commit(new StateBatch().putSynced(base));
    } else {
      const at = await repairParked(ctx.fs, ctx.store, first.fileId, ctx.deviceName, async (inode) =>
        (await ctx.fs.lstat(first.to))?.inode === inode ? first.to : undefined,
      );
      if (at !== null) ctx.touched.add(at);
    }
    throw error;
  } finally {
    ctx.touched.delete(parked);
  }
}
