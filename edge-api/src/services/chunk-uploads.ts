import {
  type ChunkHash,
  checksumSha256Base64,
  limits,
  type UploadUrlBatchResponse,
  type UploadUrlResponse,
} from "@wsync/shared-protocol";
import type { EdgeConfig } from "../config.ts";
import { pinObjects, recordObjectSizes } from "../db/chunk-objects.ts";
import { chunksMissing, issueUploadTags, ownedLiveChunks, pendingUploadTags } from "../db/chunks.ts";
import type { AppDeps } from "../http/context.ts";

/**
 * Dedup and upload verification, between the database and the store.
 *
 * Storage is content-addressed and global, but `exists: true` is answered only for chunks this user
 * has itself uploaded (and we verified): a hash is not proof of holding the bytes, and answering from
 * the global table would let anyone who learns a hash claim the file (the Dropship attack). For the
 * same reason, a commit accepts an object only when its metadata carries the tag of this user's
 * upload URL: the object merely being in the store proves only that someone uploaded it.
 */

type Deps = Pick<AppDeps, "sql" | "storage" | "clock" | "cache"> & {
  config: Pick<EdgeConfig, "chunkGraceSeconds">;
};

const VERIFY_PARALLELISM = 16;

function chunkId(hash: ChunkHash): string {
  return hash.slice("sha256:".length);
}

function graceUntil(deps: Deps): Date {
  return new Date(deps.clock().getTime() + deps.config.chunkGraceSeconds * 1000);
}

/**
 * Of `hashes`, those this user owns: from the cache where it knows, from PostgreSQL for the rest
 * (and those found there are cached). A stale cached entry is caught by the commit, which checks
 * PostgreSQL only.
 */
async function ownedChunks(deps: Deps, ownerId: string, hashes: readonly ChunkHash[]): Promise<Set<string>> {
  const cached = await deps.cache.ownedChunks(ownerId, hashes);
  const unknown = [...new Set(hashes.filter((hash) => !cached.has(hash)))];
  const stored = await ownedLiveChunks(deps.sql, ownerId, unknown);
  if (stored.size > 0) await deps.cache.rememberOwnedChunks(ownerId, [...stored]);
  return new Set([...cached, ...stored]);
}

/** Upload URLs for `chunks`, in request order; chunks this user already owns need no upload. */
export async function planUploads(
  deps: Deps,
  ownerId: string,
  chunks: readonly { chunkHash: ChunkHash; size: number }[],
): Promise<UploadUrlBatchResponse["results"]> {
  const owned = await ownedChunks(
    deps,
    ownerId,
    chunks.map((c) => c.chunkHash),
  );
  const toUpload = chunks.filter((c) => !owned.has(c.chunkHash)).map((c) => c.chunkHash);
  // The tag first (the user's hold, which the collector looks for), then the pin for the grace
  // period, which outlives the URL. A pin that finds the object claimed changes nothing here: the
  // commit's own pin will find it claimed or forgotten, and the client uploads again.
  const tags = await issueUploadTags(deps.sql, ownerId, toUpload, deps.clock());
  await pinObjects(deps.sql, toUpload, graceUntil(deps));
  return Promise.all(
    chunks.map(async ({ chunkHash, size }): Promise<UploadUrlResponse & { chunkHash: ChunkHash }> => {
      const tag = tags.get(chunkHash);
      if (owned.has(chunkHash) || tag === undefined) {
        return { chunkHash, uploadUrl: null, chunkId: chunkId(chunkHash), exists: true };
      }
      const upload = await deps.storage.presignUpload(chunkHash, size, tag, limits.presignedUrlTtlSeconds);
      return {
        chunkHash,
        uploadUrl: upload.url,
        chunkId: chunkId(chunkHash),
        exists: false,
        uploadHeaders: upload.headers,
      };
    }),
  );
}

/**
 * Checks the chunks a commit names before its transaction: the ones this user owns are known good; the
 * others are pinned, then looked up in the store (HEAD with checksum mode) and must be there with the
 * SHA-256 their hash names and this user's upload tag. Returns the verified sizes (recorded by the
 * commit), or throws `chunks_missing` listing every chunk that is not there.
 */
export async function verifyChunksForCommit(
  deps: Deps,
  ownerId: string,
  chunks: readonly ChunkHash[],
): Promise<Map<string, number>> {
  const { verified, missing } = await verifyChunks(deps, ownerId, chunks);
  if (missing.length > 0) throw chunksMissing(missing);
  return verified;
}

/**
 * verifyChunksForCommit without the refusal, for a batch whose items each name some of `chunks`: the
 * verified sizes and the missing chunks (in the order of `chunks`), so only the items naming a
 * missing chunk are refused.
 */
export async function verifyChunks(
  deps: Deps,
  ownerId: string,
  chunks: readonly ChunkHash[],
): Promise<{ verified: Map<string, number>; missing: string[] }> {
  const distinct = [...new Set(chunks)];
  const owned = await ownedLiveChunks(deps.sql, ownerId, distinct);
  let unverified = distinct.filter((hash) => !owned.has(hash));
  const verified = new Map<string, number>();
  if (unverified.length === 0) return { verified, missing: [] };
  const tags = await pendingUploadTags(deps.sql, ownerId, unverified);
  // A concurrent commit of this user may have verified some meanwhile: it spends the tag and records
  // ownership in one transaction, so a tag found gone means the ownership is visible now.
  const untagged = unverified.filter((hash) => !tags.has(hash));
  if (untagged.length > 0) {
    const nowOwned = await ownedLiveChunks(deps.sql, ownerId, untagged);
    unverified = unverified.filter((hash) => !nowOwned.has(hash));
  }
  const untaggedNow = unverified.filter((hash) => !tags.has(hash));
  const tagged = unverified.filter((hash) => tags.has(hash));
  // Pin before looking, holding the tag: a claim made before this pin is seen here (and the chunk is
  // missing); a claim made after it finds the tag or, once the commit spent it, the ownership row,
  // and is given back (jobs/garbage-collection.ts).
  const claimed = await pinObjects(deps.sql, tagged, graceUntil(deps));
  const missing: string[] = [...untaggedNow, ...tagged.filter((hash) => claimed.has(hash))];
  const queue = tagged.filter((hash) => !claimed.has(hash));
  const worker = async () => {
    for (let hash = queue.pop(); hash !== undefined; hash = queue.pop()) {
      const stored = await deps.storage.headChunk(hash);
      const intact =
        stored !== null &&
        stored.checksumSha256 === checksumSha256Base64(hash) &&
        stored.uploadTag === tags.get(hash) &&
        stored.size <= limits.chunkMaxBytes;
      if (intact) verified.set(hash, stored.size);
      else missing.push(hash);
    }
  };
  await Promise.all(Array.from({ length: Math.min(VERIFY_PARALLELISM, queue.length) }, worker));
  await recordObjectSizes(deps.sql, verified);
  if (missing.length > 0) {
    // A cached "owned" may be why the client skipped these uploads: drop it, so the retry uploads.
    await deps.cache.forgetOwnedChunks(ownerId, missing);
    const order = new Map<string, number>(distinct.map((hash, i) => [hash, i]));
    missing.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  }
  return { verified, missing };
}
