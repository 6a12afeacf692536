import type { ChunkHash } from "@wsync/shared-protocol";
import { claimCollectableChunks, forgetDeletedChunks, unfinishedDeletions } from "../db/chunks.ts";
import { deleteExpiredIdempotencyKeys } from "../db/idempotency-keys.ts";
import { deleteExpiredRateLimitWindows } from "../db/rate-limits.ts";
import { deleteStaleUploadTags, pruneVersionsBefore } from "../db/retention.ts";
import type { AppDeps } from "../http/context.ts";

type Deps = Pick<AppDeps, "sql" | "storage" | "config" | "log" | "cache">;

const BATCH = 500;
/** A claim older than this whose deletion did not finish is taken up again. */
const STALLED_CLAIM_MS = 10 * 60 * 1000;

const ago = (now: Date, seconds: number) => new Date(now.getTime() - seconds * 1000);
const after = (now: Date, seconds: number) => new Date(now.getTime() + seconds * 1000);

/** The retention job: prunes versions older than the retention window (never a current one). */
export async function pruneExpiredVersions(deps: Deps, now: Date): Promise<number> {
  const cutoff = ago(now, deps.config.retentionSeconds);
  const collectableAfter = after(now, deps.config.chunkGraceSeconds);
  let total = 0;
  for (;;) {
    const pruned = await pruneVersionsBefore(deps.sql, cutoff, collectableAfter, BATCH);
    total += pruned;
    if (pruned < BATCH) return total;
  }
}

/**
 * Chunk garbage collection: deletes from the store the chunks no version refers to whose grace period
 * is over. Claim (database) first, delete (store) second, forget (database) last, so no commit can
 * come to rely on a chunk between its check and its deletion.
 */
export async function collectGarbage(deps: Deps, now: Date): Promise<number> {
  let total = 0;
  const deleteAll = async (hashes: readonly ChunkHash[]) => {
    for (const hash of hashes) await deps.storage.deleteChunk(hash);
    await forgetDeletedChunks(deps.sql, hashes);
    total += hashes.length;
  };
  await deleteAll(await unfinishedDeletions(deps.sql, new Date(now.getTime() - STALLED_CLAIM_MS), BATCH));
  for (;;) {
    const claimed = await claimCollectableChunks(deps.sql, now, BATCH);
    await forgetReleased(deps, claimed.released);
    await deleteAll(claimed.hashes);
    if (claimed.hashes.length < BATCH) return total;
  }
}

/** Drops the cached ownership of collected chunks (PostgreSQL already dropped it). */
async function forgetReleased(deps: Deps, released: readonly { ownerId: string; hash: string }[]) {
  const byOwner = new Map<string, string[]>();
  for (const { ownerId, hash } of released) byOwner.set(ownerId, [...(byOwner.get(ownerId) ?? []), hash]);
  await Promise.all([...byOwner].map(([ownerId, hashes]) => deps.cache.forgetOwnedChunks(ownerId, hashes)));
}

/** Everything periodic, in order: retention, then collection, then housekeeping. */
export async function runMaintenance(deps: Deps, now: Date) {
  const prunedVersions = await pruneExpiredVersions(deps, now);
  const deletedChunks = await collectGarbage(deps, now);
  const grace = deps.config.chunkGraceSeconds;
  await deleteStaleUploadTags(deps.sql, ago(now, grace));
  await deleteExpiredIdempotencyKeys(deps.sql, ago(now, deps.config.idempotencyKeySeconds));
  const longestWindow = Math.max(...Object.values(deps.config.rateLimits).map((rule) => rule.windowSeconds));
  await deleteExpiredRateLimitWindows(deps.sql, ago(now, longestWindow));
  const summary = { prunedVersions, deletedChunks };
  deps.log({ time: now.toISOString(), level: "info", msg: "maintenance", ...summary });
  return summary;
}

/** Runs maintenance every `intervalSeconds` until stopped; a failed run is logged and retried next time. */
export function scheduleMaintenance(deps: Deps & { clock: () => Date }, intervalSeconds: number) {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = runMaintenance(deps, deps.clock()).catch((error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      deps.log({ level: "error", msg: "maintenance failed", error: { name: e.name, message: e.message } });
    });
  }, intervalSeconds * 1000);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
