import { createHash } from "node:crypto";
import { baseName, type FileSystem, joinPath, parentPath } from "../fs/types.ts";
import type { SyncedEntry } from "../model/types.ts";
import type { Action } from "../plan/actions.ts";
import { conflictedCopyName } from "../plan/conflict-name.ts";
import { TEMP_PREFIX } from "../scan/ignore-rules.ts";
import { applyPull } from "./apply-local.ts";
import { type ApplyContext, requireUnchanged, StaleLocalStateError } from "./context.ts";

/**
 * Where a ring member waits while the others move: a name the scanner ignores (our temporary prefix),
 * in its own folder (a rename, never a copy). It tells which item it holds, so a crash in between
 * brings the item back instead of leaving it hidden (see `restoreParked`).
 */
const PARK_PREFIX = `${TEMP_PREFIX}park-`;
const parkTag = (fileId: string) => createHash("sha256").update(fileId).digest("hex").slice(0, 24);

export function parkPath(path: string, fileId: string): string {
  return joinPath(parentPath(path), `${PARK_PREFIX}${parkTag(fileId)}`);
}

export function isParkPath(path: string): boolean {
  return baseName(path).startsWith(PARK_PREFIX);
}

/**
 * Applies a ring of moves (see the `moveCycle` action): the first member is parked, the others move
 * last to first, each into the place the one before freed, then the parked one. Every member must be
 * as scanned before anything moves; each rename still checks that its target is free, so nothing is
 * ever overwritten. If a step fails, the parked item goes back to its place when that is still free.
 */
export async function applyMoveCycle(ctx: ApplyContext, action: Extract<Action, { type: "moveCycle" }>) {
  const [first, ...rest] = action.pulls;
  if (!first?.from) throw new Error("a move cycle starts with a local item");
  for (const pull of action.pulls) if (pull.from) await requireUnchanged(ctx, pull.from);
  const parked = parkPath(first.from.path, first.fileId);
  if (await ctx.fs.lstat(parked)) throw new StaleLocalStateError(parked);
  await ctx.fs.rename(first.from.path, parked);
  ctx.touched.add(first.from.path);
  try {
    for (const pull of rest.reverse()) await applyPull(ctx, pull);
    await applyPull(ctx, { ...first, from: { ...first.from, path: parked } });
  } catch (error) {
    if (await ctx.fs.lstat(parked)) {
      const back = (await ctx.fs.lstat(first.from.path)) ? null : first.from.path;
      // Its place was taken meanwhile: a name beside it, which the next scan matches to it by inode.
      await ctx.fs.rename(parked, back ?? (await freeName(ctx.fs, first.from.path, ctx.deviceName)));
    }
    throw error;
  } finally {
    ctx.touched.delete(parked);
  }
}

async function freeName(fs: FileSystem, path: string, deviceName: string): Promise<string> {
  const folder = parentPath(path);
  const siblings = new Set(await fs.readdir(folder).catch(() => [] as string[]));
  return joinPath(
    folder,
    conflictedCopyName(baseName(path), deviceName, new Date(), (name) => siblings.has(name)),
  );
}

/**
 * A parked item found by a full scan was left by a crash in the middle of a ring: it goes back to its
 * synced name when that is free, else beside it. The next scan matches it to its file by inode, and
 * the planner moves it where the server has it. Returns where it went (null: not a parked item).
 */
export async function restoreParked(
  fs: FileSystem,
  synced: ReadonlyMap<string, SyncedEntry>,
  path: string,
  deviceName: string,
): Promise<string | null> {
  if (!isParkPath(path) || !(await fs.lstat(path))) return null;
  const tag = baseName(path).slice(PARK_PREFIX.length);
  const entry = [...synced.values()].find((candidate) => parkTag(candidate.fileId) === tag);
  const wanted = joinPath(parentPath(path), entry?.name ?? "parked item");
  const target = (await fs.lstat(wanted)) ? await freeName(fs, wanted, deviceName) : wanted;
  await fs.rename(path, target);
  return target;
}
