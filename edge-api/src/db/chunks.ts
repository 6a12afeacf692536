import { ApiError, type ChunkHash } from "@wsync/shared-protocol";
import type { Sql, TransactionSql } from "postgres";

/**
 * Queries on chunks (global, content-addressed) and chunk_owners (who proved they hold the bytes).
 *
 * Garbage collection and uploads meet here. The rules that keep a committed chunk from ever being
 * deleted under it:
 * - a chunk row is claimed for deletion (deleting_since) only while unreferenced and past
 *   collectable_after, under its row lock; claiming also drops all ownership, so nobody skips
 *   verification for it again;
 * - a commit takes the same row locks and refuses (chunks_missing) any chunk that is claimed or gone,
 *   and only verifies uploads (HEAD) after pinning the row, so a HEAD that saw the object cannot be
 *   followed by a delete the commit did not notice.
 */

/** Of `hashes`, those this user owns whose chunk is stored and not being collected. */
export async function ownedLiveChunks(
  sql: Sql,
  ownerId: string,
  hashes: readonly string[],
): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  const rows = await sql<{ hash: string }[]>`
    SELECT o.hash FROM chunk_owners o JOIN chunks c ON c.hash = o.hash
    WHERE o.owner_id = ${ownerId} AND o.hash = ANY(${hashes}::text[])
      AND c.deleting_since IS NULL AND c.size IS NOT NULL`;
  return new Set(rows.map((row) => row.hash));
}

/**
 * Keeps `hashes` from collection until `until` (an upload or a verification is about to rely on
 * them), creating unknown ones. Returns those already claimed for deletion: they cannot be relied on.
 */
export async function pinChunks(sql: Sql, hashes: readonly string[], until: Date): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  const sorted = [...new Set(hashes)].sort();
  const rows = await sql<{ hash: string; claimed: boolean }[]>`
    INSERT INTO chunks (hash, collectable_after)
    SELECT h, ${until} FROM unnest(${sorted}::text[]) AS h ORDER BY h
    ON CONFLICT (hash) DO UPDATE SET collectable_after = greatest(chunks.collectable_after, excluded.collectable_after)
    RETURNING hash, deleting_since IS NOT NULL AS claimed`;
  return new Set(rows.filter((row) => row.claimed).map((row) => row.hash));
}

/**
 * The upload tag of each of `hashes` for this user, issuing a random one where there is none. A tag
 * stays the same until its upload verifies, so every URL issued meanwhile writes the same tag.
 */
export async function issueUploadTags(
  sql: Sql,
  ownerId: string,
  hashes: readonly string[],
  now: Date,
): Promise<Map<string, string>> {
  if (hashes.length === 0) return new Map();
  const sorted = [...new Set(hashes)].sort();
  const fresh = sorted.map(() => crypto.randomUUID().replaceAll("-", ""));
  const rows = await sql<{ hash: string; tag: string }[]>`
    INSERT INTO chunk_uploads (owner_id, hash, tag, issued_at)
    SELECT ${ownerId}, t.hash, t.tag, ${now} FROM unnest(${sorted}::text[], ${fresh}::text[]) AS t(hash, tag)
    ORDER BY t.hash
    ON CONFLICT (owner_id, hash) DO UPDATE SET issued_at = excluded.issued_at
    RETURNING hash, tag`;
  return new Map(rows.map((row) => [row.hash, row.tag]));
}

/** The tags of this user's pending uploads of `hashes`. */
export async function pendingUploadTags(
  sql: Sql,
  ownerId: string,
  hashes: readonly string[],
): Promise<Map<string, string>> {
  if (hashes.length === 0) return new Map();
  const rows = await sql<{ hash: string; tag: string }[]>`
    SELECT hash, tag FROM chunk_uploads WHERE owner_id = ${ownerId} AND hash = ANY(${hashes as string[]}::text[])`;
  return new Map(rows.map((row) => [row.hash, row.tag]));
}

/**
 * Locks the rows of `hashes` (sorted, so concurrent commits cannot deadlock on them) and returns the
 * size of each, taking a just-verified size where the row has none yet. Anything claimed, unknown or
 * unverified is `chunks_missing`.
 */
export async function lockChunksForReference(
  tx: TransactionSql,
  hashes: readonly string[],
  verifiedSizes: ReadonlyMap<string, number>,
): Promise<Map<string, number>> {
  const distinct = [...new Set(hashes)].sort();
  if (distinct.length === 0) return new Map();
  const rows = await tx<{ hash: string; size: string | null; deleting_since: Date | null }[]>`
    SELECT hash, size, deleting_since FROM chunks WHERE hash = ANY(${distinct}::text[]) ORDER BY hash FOR UPDATE`;
  const sizes = new Map<string, number>();
  for (const row of rows) {
    if (row.deleting_since) continue;
    const size = row.size !== null ? Number(row.size) : verifiedSizes.get(row.hash);
    if (size !== undefined) sizes.set(row.hash, size);
  }
  const missing = distinct.filter((hash) => !sizes.has(hash));
  if (missing.length > 0) throw chunksMissing(missing);
  return sizes;
}

export function chunksMissing(missing: readonly string[]): ApiError {
  return new ApiError("chunks_missing", `${missing.length} chunk(s) were never uploaded or did not verify`, {
    missing,
  });
}

/** Records verified uploads: the chunk's size, and that this user holds its bytes (tag spent). */
export async function recordVerifiedChunks(
  tx: TransactionSql,
  ownerId: string,
  verifiedSizes: ReadonlyMap<string, number>,
  now: Date,
): Promise<void> {
  if (verifiedSizes.size === 0) return;
  const hashes = [...verifiedSizes.keys()].sort();
  const sizes = hashes.map((hash) => String(verifiedSizes.get(hash)));
  await tx`
    UPDATE chunks c SET size = t.size FROM unnest(${hashes}::text[], ${sizes}::bigint[]) AS t(hash, size)
    WHERE c.hash = t.hash AND c.size IS NULL`;
  await tx`
    INSERT INTO chunk_owners (owner_id, hash, verified_at)
    SELECT ${ownerId}, h, ${now} FROM unnest(${hashes}::text[]) AS h
    ON CONFLICT (owner_id, hash) DO NOTHING`;
  await tx`DELETE FROM chunk_uploads WHERE owner_id = ${ownerId} AND hash = ANY(${hashes}::text[])`;
}

/** Adds one reference per occurrence in `hashes` (rows already locked by lockChunksForReference). */
export async function addChunkReferences(tx: TransactionSql, hashes: readonly string[]): Promise<void> {
  if (hashes.length === 0) return;
  await tx`
    UPDATE chunks c SET reference_count = c.reference_count + t.n
    FROM (SELECT h, count(*)::int AS n FROM unnest(${hashes as string[]}::text[]) AS h GROUP BY h) AS t
    WHERE c.hash = t.h`;
}

/** Adds the references of an existing version's chunk list again (a move, delete or restore). */
export async function addReferencesOfVersion(
  tx: TransactionSql,
  ownerId: string,
  fileId: string,
  version: number,
): Promise<void> {
  // Referenced chunks cannot be claimed, so these rows are live; lock them in order all the same.
  await tx`
    SELECT 1 FROM chunks WHERE hash IN (
      SELECT chunk_hash FROM file_chunks WHERE owner_id = ${ownerId} AND file_id = ${fileId} AND version = ${version})
    ORDER BY hash FOR UPDATE`;
  await tx`
    UPDATE chunks c SET reference_count = c.reference_count + t.n
    FROM (SELECT chunk_hash, count(*)::int AS n FROM file_chunks
          WHERE owner_id = ${ownerId} AND file_id = ${fileId} AND version = ${version} GROUP BY chunk_hash) AS t
    WHERE c.hash = t.chunk_hash`;
}

/** Of `hashes`, those in some stored version of this user's files (what the user may download). */
export async function chunksReadableBy(
  sql: Sql,
  ownerId: string,
  hashes: readonly string[],
): Promise<Set<string>> {
  const rows = await sql<{ chunk_hash: string }[]>`
    SELECT DISTINCT chunk_hash FROM file_chunks WHERE owner_id = ${ownerId} AND chunk_hash = ANY(${hashes as string[]}::text[])`;
  return new Set(rows.map((row) => row.chunk_hash));
}

/**
 * Claims up to `limit` chunks that are unreferenced and past their grace period: marks them deleting
 * and drops their ownership, in one transaction holding their row locks. Returns the claimed hashes;
 * the caller deletes the objects, then calls `forgetDeletedChunks`.
 */
export interface ClaimedChunks {
  hashes: ChunkHash[];
  /** The ownership the claim dropped, for the cache to forget too. */
  released: { ownerId: string; hash: string }[];
}

export async function claimCollectableChunks(sql: Sql, now: Date, limit: number): Promise<ClaimedChunks> {
  return (await sql.begin(async (tx) => {
    const rows = await tx<{ hash: ChunkHash }[]>`
      SELECT hash FROM chunks
      WHERE reference_count = 0 AND collectable_after < ${now} AND deleting_since IS NULL
      ORDER BY hash LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
    const hashes = rows.map((row) => row.hash);
    if (hashes.length === 0) return { hashes: [], released: [] };
    await tx`UPDATE chunks SET deleting_since = ${now} WHERE hash = ANY(${hashes}::text[])`;
    const released = await tx<{ owner_id: string; hash: string }[]>`
      /* cross-owner: garbage collection drops every owner's claim on a collected chunk */
      DELETE FROM chunk_owners WHERE hash = ANY(${hashes}::text[]) RETURNING owner_id, hash`;
    return { hashes, released: released.map((row) => ({ ownerId: row.owner_id, hash: row.hash })) };
  })) as ClaimedChunks;
}

/** Drops the rows of chunks whose objects are deleted; a later upload of the same bytes starts afresh. */
export async function forgetDeletedChunks(sql: Sql, hashes: readonly string[]): Promise<void> {
  await sql`DELETE FROM chunks WHERE hash = ANY(${hashes as string[]}::text[]) AND deleting_since IS NOT NULL`;
}

/** Claimed chunks whose deletion did not finish (a crash between claim and forget), to retry. */
export async function unfinishedDeletions(
  sql: Sql,
  claimedBefore: Date,
  limit: number,
): Promise<ChunkHash[]> {
  const rows = await sql<{ hash: ChunkHash }[]>`
    SELECT hash FROM chunks WHERE deleting_since < ${claimedBefore} ORDER BY hash LIMIT ${limit}`;
  return rows.map((row) => row.hash);
}
