import { deleteExpiredIdempotencyKeys, ownersWithExpiredIdempotencyKeys } from "../db/idempotency-keys.ts";
import { deleteExpiredRateLimitWindows } from "../db/rate-limits.ts";
import {
  deleteStaleUploadTags,
  ownersWithExpiredVersions,
  ownersWithStaleUploadTags,
  pruneVersionsOf,
} from "../db/retention.ts";
import type { AppDeps } from "../http/context.ts";
import { collectGarbage } from "./garbage-collection.ts";

export { collectGarbage } from "./garbage-collection.ts";

type Deps = Pick<AppDeps, "sql" | "storage" | "config" | "log" | "cache">;

const BATCH = 500;

const ago = (now: Date, seconds: number) => new Date(now.getTime() - seconds * 1000);
const after = (now: Date, seconds: number) => new Date(now.getTime() + seconds * 1000);

/**
 * Runs `work` for every owner that `find` (a fan-out read) names, until a round finds none or does
 * nothing (what is left is locked by a concurrent run, which does it). Each `work` is one owner's.
 */
async function perOwner(
  find: () => Promise<string[]>,
  work: (ownerId: string) => Promise<number>,
): Promise<number> {
  let total = 0;
  for (;;) {
    const owners = await find();
    let round = 0;
    for (const ownerId of owners) round += await work(ownerId);
    total += round;
    if (owners.length < BATCH || round === 0) return total;
  }
}

/** The retention job: prunes versions older than the retention window (never a current one), per owner. */
export async function pruneExpiredVersions(deps: Deps, now: Date): Promise<number> {
  const cutoff = ago(now, deps.config.retentionSeconds);
  const collectableAfter = after(now, deps.config.chunkGraceSeconds);
  return perOwner(
    () => ownersWithExpiredVersions(deps.sql, cutoff, BATCH),
    async (ownerId) => {
      let pruned = 0;
      for (let n = BATCH; n === BATCH; pruned += n) {
        n = await pruneVersionsOf(deps.sql, ownerId, cutoff, collectableAfter, BATCH);
      }
      return pruned;
    },
  );
}

/** Housekeeping: stale upload tags, then expired idempotency keys, per owner. */
async function sweepByAge(deps: Deps, now: Date) {
  const tagsBefore = ago(now, deps.config.chunkGraceSeconds);
  await perOwner(
    () => ownersWithStaleUploadTags(deps.sql, tagsBefore, BATCH),
    (ownerId) => deleteStaleUploadTags(deps.sql, ownerId, tagsBefore),
  );
  const keysBefore = ago(now, deps.config.idempotencyKeySeconds);
  await perOwner(
    () => ownersWithExpiredIdempotencyKeys(deps.sql, keysBefore, BATCH),
    (ownerId) => deleteExpiredIdempotencyKeys(deps.sql, ownerId, keysBefore),
  );
}

/** Everything periodic, in order: retention, housekeeping, collection, rate-limit windows. */
export async function runMaintenance(deps: Deps, now: Date) {
  const prunedVersions = await pruneExpiredVersions(deps, now);
  // Housekeeping before collection: an unused upload tag holds its object from the collector.
  await sweepByAge(deps, now);
  const deletedChunks = await collectGarbage(deps, now);
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
