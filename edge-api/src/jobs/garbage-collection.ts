import type { ChunkHash } from "@wsync/shared-protocol";
import {
  claimObjects,
  clearChecks,
  forgetObjects,
  markObjectsForCheck,
  objectsToCheck,
  releaseObjects,
  stalledClaims,
} from "../db/chunk-objects.ts";
import {
  collectableOwnership,
  dropOwnership,
  holdersOf,
  ownersWithCollectableOwnership,
} from "../db/chunks.ts";
import type { AppDeps } from "../http/context.ts";

/**
 * Chunk garbage collection, with no transaction across users or across a user and the object list:
 *
 * 1. Per owner (one shard): drop the ownership rows unreferenced past their grace period, marking
 *    their objects for a look first.
 * 2. Per object: for marked objects whose pin expired, read who holds them (a fan-out read of
 *    ownership rows and upload tags); claim the unheld ones (a conditional update of the object row:
 *    still unclaimed, pin still expired); read the holders AGAIN and give back any claim that now
 *    has one; delete the rest from the store; forget their rows.
 *
 * Why no commit can come to rely on a deleted object: a user relies on an object only through its
 * hold (an upload tag from the upload URL until the commit swaps it, in the commit's transaction, for
 * an ownership row), and pins the object after taking the hold and before its HEAD. The pin and the
 * claim are on one row, so one comes first. Pin first, claim second: the claim's second holder read
 * comes after the hold was taken, sees it, and gives the claim back. Claim first: the pin sees the
 * claim and the commit answers `chunks_missing`. Neither depends on clocks agreeing; the pin's
 * expiry only adds the grace period on top. Owned chunks are not pinned: their ownership row is the
 * hold, it is only dropped while unreferenced, and the commit locks it (a dropped one is missing).
 */

type Deps = Pick<AppDeps, "sql" | "storage" | "log" | "cache">;

/** Test seams: run something between the steps, to interleave a user's requests with them. */
export interface CollectionHooks {
  /** After the first holder read, before the claim. */
  beforeClaim?: (hashes: readonly ChunkHash[]) => Promise<void>;
  /** After the claim, before the second holder read. */
  afterClaim?: (hashes: readonly ChunkHash[]) => Promise<void>;
}

const BATCH = 500;
/** A claim older than this whose deletion did not finish is taken up again. */
const STALLED_CLAIM_MS = 10 * 60 * 1000;

/** Step 1: drops expired unreferenced ownership, owner by owner; returns how many rows went. */
async function dropExpiredOwnership(deps: Deps, now: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const owners = await ownersWithCollectableOwnership(deps.sql, now, BATCH);
    let round = 0;
    for (const ownerId of owners) round += await dropOwnershipOf(deps, ownerId, now);
    total += round;
    // (A round that dropped nothing: the rest were referenced again meanwhile.)
    if (owners.length < BATCH || round === 0) return total;
  }
}

async function dropOwnershipOf(deps: Deps, ownerId: string, now: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const hashes = await collectableOwnership(deps.sql, ownerId, now, BATCH);
    if (hashes.length === 0) return total;
    // Marked before the drop: a crash in between leaves a mark (a needless look), never an unowned
    // object nobody looks at again.
    await markObjectsForCheck(deps.sql, hashes);
    const dropped = await dropOwnership(deps.sql, ownerId, hashes, now);
    await deps.cache.forgetOwnedChunks(ownerId, dropped);
    total += dropped.length;
    if (hashes.length < BATCH || dropped.length === 0) return total;
  }
}

/** Of claimed objects: gives back those somebody holds, deletes the others. Returns how many went. */
async function deleteClaimed(deps: Deps, now: Date, claimed: readonly ChunkHash[], hooks: CollectionHooks) {
  if (claimed.length === 0) return 0;
  await hooks.afterClaim?.(claimed);
  const holders = await holdersOf(deps.sql, claimed);
  await releaseObjects(
    deps.sql,
    claimed.filter((hash) => holders.has(hash)),
  );
  const unheld = claimed.filter((hash) => !holders.has(hash));
  for (const hash of unheld) await deps.storage.deleteChunk(hash);
  const forgotten = new Set(await forgetObjects(deps.sql, unheld, now));
  // Pinned again after the claim: an upload may land after the delete. The row stays (unclaimed and
  // marked), so what it leaves is looked at again rather than leaked.
  await releaseObjects(
    deps.sql,
    unheld.filter((hash) => !forgotten.has(hash)),
  );
  return unheld.length;
}

/** Collects every object nobody holds whose pin expired before `now`; returns how many were deleted. */
export async function collectGarbage(deps: Deps, now: Date, hooks: CollectionHooks = {}): Promise<number> {
  await dropExpiredOwnership(deps, now);
  let deleted = await deleteClaimed(
    deps,
    now,
    await stalledClaims(deps.sql, new Date(now.getTime() - STALLED_CLAIM_MS), BATCH),
    hooks,
  );
  for (let after = ""; ; ) {
    const batch = await objectsToCheck(deps.sql, now, after, BATCH);
    if (batch.length === 0) return deleted;
    after = batch.at(-1)?.hash ?? after;
    const holders = await holdersOf(
      deps.sql,
      batch.map((o) => o.hash),
    );
    // Held by an owner: nothing to do until that owner drops its row (which marks it again). Held
    // only by an upload tag: looked at again next time, when the tag may be spent or swept.
    await clearChecks(
      deps.sql,
      batch.filter((o) => holders.get(o.hash) === "owned"),
    );
    const unheld = batch.filter((o) => !holders.has(o.hash)).map((o) => o.hash);
    if (unheld.length > 0) await hooks.beforeClaim?.(unheld);
    deleted += await deleteClaimed(deps, now, await claimObjects(deps.sql, unheld, now), hooks);
    if (batch.length < BATCH) return deleted;
  }
}
