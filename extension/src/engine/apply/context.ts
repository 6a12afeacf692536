import type { ApiClient, ChunkHash } from "@wsync/shared-protocol";
import type { FileStat, FileSystem } from "../fs/types.ts";
import type { LocalEntry } from "../scan/scanner.ts";
import type { StateStore } from "../state/state-store.ts";
import type { ChunkCache } from "../transfer/chunk-cache.ts";
import type { ChunkLocator } from "../transfer/downloader.ts";
import type { TransferProgress, TransferStats } from "../transfer/stats.ts";
import type { UploadDeps } from "../transfer/uploader.ts";

/** What applying a plan needs: the edges (disk, server, state) and where to report. */
export interface ApplyContext {
  fs: FileSystem;
  api: ApiClient;
  store: StateStore;
  stats: TransferStats;
  deviceId: string;
  deviceName: string;
  /** Items handled at once in a phase (their chunk transfers are bounded by `chunkLimit` besides). */
  concurrency: number;
  /** Shared by every transfer of the round: chunks in flight, so memory stays bounded. */
  chunkLimit: <T>(fn: () => Promise<T>) => Promise<T>;
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  locator: ChunkLocator;
  /** Where chunks of removed or replaced files are kept for a while (absent: not kept). */
  cache?: ChunkCache;
  onConflict: (conflict: { path: string; copyPath: string; reason: string }) => void;
  onProgress: (progress: TransferProgress) => void;
  /** Aborted when sync is paused or stopped: transfers stop, the rest of the round is skipped. */
  signal: AbortSignal;
  /**
   * Chunks the server said this round it holds (or that this round uploaded): not asked about again.
   * The executor starts an empty one for each round.
   */
  present?: Set<ChunkHash>;
  /** Local paths this round wrote, renamed or deleted: rescanned before the next round. */
  touched: Set<string>;
  /**
   * Files this round downloaded into place (path to item), with a time no later than their rename:
   * the scanner checks the chunks they were written with rather than cutting them again.
   */
  written: Map<string, { fileId: string; knownAt: number }>;
}

/** The disk moved on since the scan: the action waits for the next round, which sees the change. */
export class StaleLocalStateError extends Error {
  readonly code = "stale_local_state" as const;
  constructor(readonly path: string) {
    super(`${path} changed since it was scanned`);
    this.name = "StaleLocalStateError";
  }
}

export function matchesScan(stat: FileStat | null, expected: LocalEntry): boolean {
  if (!stat || stat.kind !== expected.kind || stat.inode !== expected.inode) return false;
  // The mode too: a chmod since the scan is a local change (of the executable bit) not seen yet.
  return (
    expected.kind === "folder" ||
    (stat.size === expected.size && stat.mtimeMs === expected.mtimeMs && stat.mode === expected.mode)
  );
}

export async function requireUnchanged(ctx: ApplyContext, expected: LocalEntry): Promise<void> {
  if (!matchesScan(await ctx.fs.lstat(expected.path), expected))
    throw new StaleLocalStateError(expected.path);
}

/** Every synced item at or under a path (by the synced tree), for removing a whole subtree. */
export function syncedSubtree(store: StateStore, fileId: string): string[] {
  const children = new Map<string, string[]>();
  for (const entry of store.synced.values()) {
    if (entry.parentId === null) continue;
    children.set(entry.parentId, [...(children.get(entry.parentId) ?? []), entry.fileId]);
  }
  const result: string[] = [];
  const visit = (id: string) => {
    result.push(id);
    for (const child of children.get(id) ?? []) visit(child);
  };
  visit(fileId);
  return result;
}

/** What the uploader needs from a round's context. */
export function uploadDeps(ctx: ApplyContext): UploadDeps {
  return {
    api: ctx.api,
    fs: ctx.fs,
    store: ctx.store,
    stats: ctx.stats,
    limit: ctx.chunkLimit,
    fetch: ctx.fetch,
    signal: ctx.signal,
    onProgress: ctx.onProgress,
    present: ctx.present,
  };
}
