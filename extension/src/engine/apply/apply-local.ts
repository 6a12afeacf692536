import { createHash } from "node:crypto";
import { chunkHashFromDigest, fileNameProblem } from "@wsync/shared-protocol";
import { parentPath } from "../fs/types.ts";
import { EXEC_BIT_SUPPORTED, isExecutable, sameExecutable, withExecutable } from "../model/executable.ts";
import { type RemoteEntry, sameChunks } from "../model/types.ts";
import type { Action } from "../plan/actions.ts";
import { UNKNOWN_INODE } from "../plan/local-view.ts";
import type { LocalEntry } from "../scan/scanner.ts";
import { StateBatch } from "../state/state-store.ts";
import { downloadToTemporary, readRange } from "../transfer/downloader.ts";
import {
  type ApplyContext,
  matchesScan,
  requireUnchanged,
  StaleLocalStateError,
  syncedSubtree,
} from "./context.ts";
import { syncedRecord } from "./records.ts";

type Of<T extends Action["type"]> = Extract<Action, { type: T }>;

/** Never write a path with a segment the contract forbids, whatever the server sent. */
function assertSafePath(path: string): void {
  for (const segment of path.split("/")) {
    const problem = fileNameProblem(segment);
    if (problem) throw new Error(`refusing to write ${JSON.stringify(path)}: a segment ${problem}`);
  }
}

/** Every folder on the way must be a real folder: a symlinked folder could lead outside the workspace. */
async function assertRealFolders(ctx: ApplyContext, path: string): Promise<void> {
  for (let folder = parentPath(path); folder !== ""; folder = parentPath(folder)) {
    const stat = await ctx.fs.lstat(folder);
    if (stat?.kind !== "folder") throw new StaleLocalStateError(folder);
  }
}

export async function applyConflictCopy(ctx: ApplyContext, action: Of<"conflictCopy">): Promise<void> {
  await requireUnchanged(ctx, action.local);
  if (await ctx.fs.lstat(action.copyPath)) throw new StaleLocalStateError(action.copyPath);
  if (action.fileId) {
    // Unlink the local bytes from the server file first: if we crash after the rename, the copy is not
    // taken for a rename of that file, and the server's version still comes back at the path.
    const synced = ctx.store.synced.get(action.fileId);
    if (synced) {
      await ctx.store.commit(
        new StateBatch().putSynced({ ...synced, inode: UNKNOWN_INODE, mtimeMs: -1, ctimeMs: -1 }),
      );
    }
  }
  await ctx.fs.rename(action.path, action.copyPath);
  await ctx.fs.syncFolder(parentPath(action.path)).catch(() => {});
  ctx.touched.add(action.path).add(action.copyPath);
  ctx.onConflict({
    path: action.path,
    copyPath: action.copyPath,
    reason: action.fileId ? "changed on this device and another" : "created on this device and another",
  });
}

export async function applyForget(ctx: ApplyContext, action: Of<"forget">): Promise<void> {
  await ctx.store.commit(new StateBatch().deleteSynced(action.fileId));
}

export async function applyAdopt(ctx: ApplyContext, action: Of<"adopt">): Promise<void> {
  const stat = await ctx.fs.lstat(action.path);
  if (!matchesScan(stat, action.local)) throw new StaleLocalStateError(action.path);
  const local = action.local;
  const sameContent =
    action.remote.isFolder ||
    (sameChunks(
      local.chunks.map((c) => c.hash),
      action.remote.chunks,
    ) &&
      execAgrees(local, action.remote));
  const record = syncedRecord(
    action.remote,
    sameContent ? stat : null,
    local.chunks.map((c) => c.size),
  );
  await ctx.store.commit(new StateBatch().putSynced(record));
}

export async function applyPull(ctx: ApplyContext, action: Of<"pull">): Promise<void> {
  const { remote, from, to } = action;
  assertSafePath(to);
  await assertRealFolders(ctx, to);
  if (from) await requireUnchanged(ctx, from);
  if (!from || from.path !== to) {
    const occupant = await ctx.fs.lstat(to);
    // A case-only rename on a case-insensitive disk finds the item itself at the target.
    if (occupant && !(from && occupant.inode === from.inode)) throw new StaleLocalStateError(to);
  }
  if (remote.isFolder) {
    if (from) await ctx.fs.rename(from.path, to);
    else await ctx.fs.mkdir(to);
    await finish(ctx, remote, to, []);
    ctx.touched.add(to);
    if (from) ctx.touched.add(from.path);
    return;
  }
  const same =
    from !== null &&
    sameChunks(
      from.chunks.map((c) => c.hash),
      remote.chunks,
    );
  if (!action.content || same) {
    if (!from) throw new Error("a pull without content needs a local file");
    if (from.path !== to) await ctx.fs.rename(from.path, to);
    ctx.touched.add(from.path).add(to);
    // The bytes are already here: a change of the executable bit alone is a chmod, nothing downloaded.
    if (action.content) await setExecutable(ctx, to, from.mode, remote.executable ?? false);
    // A local chmod not sent yet (the pull only moves it) stays a change: the local half is unknown.
    const stale = !same || (!action.content && !execAgrees(from, remote));
    await finish(
      ctx,
      remote,
      to,
      from.chunks.map((c) => c.size),
      stale,
    );
    return;
  }
  const baseMode = from ? from.mode : 0o644;
  const mode = EXEC_BIT_SUPPORTED ? withExecutable(baseMode, remote.executable ?? false) : baseMode;
  if (from) await keepChunks(ctx, from, new Set(remote.chunks));
  const temporary = await downloadToTemporary(
    {
      api: ctx.api,
      fs: ctx.fs,
      stats: ctx.stats,
      limit: ctx.chunkLimit,
      window: 2,
      fetch: ctx.fetch,
      signal: ctx.signal,
      onProgress: ctx.onProgress,
    },
    parentPath(to),
    to,
    remote.chunks,
    ctx.locator,
    mode,
  );
  try {
    // Checked again at the last moment: a file edited during the download is never overwritten.
    if (from) await requireUnchanged(ctx, from);
    if ((!from || from.path !== to) && (await ctx.fs.lstat(to))) throw new StaleLocalStateError(to);
    ctx.written.set(to, { fileId: remote.fileId, knownAt: Date.now() });
    await ctx.fs.rename(temporary.path, to);
  } catch (error) {
    ctx.written.delete(to);
    await ctx.fs.unlink(temporary.path).catch(() => {});
    throw error;
  }
  ctx.touched.add(to);
  if (from && from.path !== to) {
    // The old place is removed only if it still holds what we scanned; else it stays, as a new file.
    if (matchesScan(await ctx.fs.lstat(from.path), from)) await ctx.fs.unlink(from.path);
    ctx.touched.add(from.path);
  }
  await ctx.fs.syncFolder(parentPath(to)).catch(() => {});
  await finish(ctx, remote, to, temporary.chunkSizes);
}

/** Whether the local file's executable bit is the server's (a folder has none to compare). */
function execAgrees(local: LocalEntry, remote: RemoteEntry): boolean {
  return local.kind === "folder" || sameExecutable(local.mode, remote);
}

async function setExecutable(ctx: ApplyContext, path: string, mode: number, executable: boolean) {
  if (!EXEC_BIT_SUPPORTED || isExecutable(mode) === executable) return;
  await ctx.fs.chmod(path, withExecutable(mode, executable));
}

/**
 * Copies the chunks of a file about to be replaced or deleted into the chunk cache (those the new
 * content does not reuse), so going back to it later downloads nothing. Best effort: a file too large
 * for the cache, or one that fails to read, is simply not kept.
 */
async function keepChunks(ctx: ApplyContext, file: LocalEntry, except: ReadonlySet<string>): Promise<void> {
  const cache = ctx.cache;
  if (!cache || file.size > cache.maxBytes / 4) return;
  for (const chunk of file.chunks) {
    if (except.has(chunk.hash) || cache.has(chunk.hash)) continue;
    const bytes = await readRange(ctx.fs, file.path, chunk.offset, chunk.size).catch(() => null);
    if (bytes && chunkHashFromDigest(createHash("sha256").update(bytes).digest()) === chunk.hash) {
      await cache.put(chunk.hash, bytes).catch(() => {});
    }
  }
}

async function finish(
  ctx: ApplyContext,
  remote: RemoteEntry,
  path: string,
  chunkSizes: number[],
  stale = false,
) {
  const stat = await ctx.fs.lstat(path);
  await ctx.store.commit(new StateBatch().putSynced(syncedRecord(remote, stale ? null : stat, chunkSizes)));
}

export async function applyDeleteLocal(ctx: ApplyContext, action: Of<"deleteLocal">): Promise<void> {
  const synced = ctx.store.synced.get(action.fileId);
  // Deepest first; anything not as scanned (or new in a folder) stops the delete right there.
  for (const expected of action.expected) {
    await requireUnchanged(ctx, expected);
    if (expected.kind === "file") await keepChunks(ctx, expected, new Set());
    if (expected.kind === "folder") {
      await ctx.fs.rmdir(expected.path).catch((error: NodeJS.ErrnoException) => {
        throw error.code === "ENOTEMPTY" || error.code === "EEXIST"
          ? new StaleLocalStateError(expected.path)
          : error;
      });
    } else {
      await ctx.fs.unlink(expected.path);
    }
    ctx.touched.add(expected.path);
  }
  const batch = new StateBatch();
  if (synced) for (const id of syncedSubtree(ctx.store, synced.fileId)) batch.deleteSynced(id);
  await ctx.store.commit(batch);
  ctx.touched.add(action.path);
}
