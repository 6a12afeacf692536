import { ApiError, type ChunkHash } from "@wsync/shared-protocol";
import type { Sql, TransactionSql } from "postgres";

/**
 * Queries on a user's chunks, all on the user's shard: chunk_owners (the chunks this user proved it
 * holds, with their size and this user's reference count) and chunk_uploads (upload URLs issued and
 * not yet verified). Dedup answers `exists` only from chunk_owners, never from the global object list.
 *
 * Either row is the user's hold on the object: an upload tag from the upload URL until a commit
 * verifies it, then, in the same transaction, an ownership row until the collector drops it (only
 * while unreferenced, past its grace period). The collector deletes an object only when no user
 * holds it (jobs/garbage-collection.ts).
 */

/** Of `hashes`, those this user owns (an owned chunk's object is never collected). */
export async function ownedLiveChunks(
  sql: Sql,
  ownerId: string,
  hashes: readonly string[],
): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  const rows = await sql<{ hash: string }[]>`
    SELECT hash FROM chunk_owners WHERE owner_id = ${ownerId} AND hash = ANY(${hashes as string[]}::text[])`;
  return new Set(rows.map((row) => row.hash));
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
 * In a change transaction: turns this user's verified uploads into ownership (spending their tags),
 * then locks the ownership rows of `hashes` (sorted, against the collector dropping them) and returns
 * each one's size. A chunk the user does not own by then is `chunks_missing`: never uploaded, its
 * verification failed, its tag expired, or the collector dropped the ownership since it was read.
 */
export async function holdChunksForVersion(
  tx: TransactionSql,
  ownerId: string,
  hashes: readonly string[],
  verifiedSizes: ReadonlyMap<string, number>,
  now: Date,
): Promise<Map<string, number>> {
  const { sizes, absent } = await holdChunks(tx, ownerId, hashes, verifiedSizes, now);
  if (absent.length > 0) throw chunksMissing(absent);
  return sizes;
}

/**
 * holdChunksForVersion for many versions at once (a batch create): the same two statements over the
 * union of their chunks, answering which are absent instead of refusing them all.
 */
export async function holdChunks(
  tx: TransactionSql,
  ownerId: string,
  hashes: readonly string[],
  verifiedSizes: ReadonlyMap<string, number>,
  now: Date,
): Promise<{ sizes: Map<string, number>; absent: string[] }> {
  const distinct = [...new Set(hashes)].sort();
  if (distinct.length === 0) return { sizes: new Map(), absent: [] };
  if (verifiedSizes.size > 0) {
    const verified = [...verifiedSizes.keys()].sort();
    // Only a tag still there counts: housekeeping may have swept it since the verification read it,
    // and then nothing held the object meanwhile.
    const spent = await tx<{ hash: string }[]>`
      DELETE FROM chunk_uploads WHERE owner_id = ${ownerId} AND hash = ANY(${verified}::text[]) RETURNING hash`;
    const spentHashes = spent.map((row) => row.hash).sort();
    const sizes = spentHashes.map((hash) => String(verifiedSizes.get(hash)));
    await tx`
      INSERT INTO chunk_owners (owner_id, hash, size, reference_count, verified_at, collectable_after)
      SELECT ${ownerId}, t.hash, t.size, 0, ${now}, ${now}
      FROM unnest(${spentHashes}::text[], ${sizes}::bigint[]) AS t(hash, size) ORDER BY t.hash
      ON CONFLICT (owner_id, hash) DO NOTHING`;
  }
  const rows = await tx<{ hash: string; size: string }[]>`
    SELECT hash, size FROM chunk_owners WHERE owner_id = ${ownerId} AND hash = ANY(${distinct}::text[])
    ORDER BY hash FOR UPDATE`;
  const sizes = new Map(rows.map((row) => [row.hash, Number(row.size)]));
  return { sizes, absent: distinct.filter((hash) => !sizes.has(hash)) };
}

export function chunksMissing(missing: readonly string[]): ApiError {
  return new ApiError("chunks_missing", `${missing.length} chunk(s) were never uploaded or did not verify`, {
    missing,
  });
}

/** Adds one reference per occurrence in `hashes` (rows already locked by holdChunksForVersion). */
export async function addChunkReferences(
  tx: TransactionSql,
  ownerId: string,
  hashes: readonly string[],
): Promise<void> {
  if (hashes.length === 0) return;
  await tx`
    UPDATE chunk_owners o SET reference_count = o.reference_count + t.n
    FROM (SELECT h, count(*)::int AS n FROM unnest(${hashes as string[]}::text[]) AS h GROUP BY h) AS t
    WHERE o.owner_id = ${ownerId} AND o.hash = t.h`;
}

/** Adds the references of an existing version's chunk list again (a move, delete or restore). */
export async function addReferencesOfVersion(
  tx: TransactionSql,
  ownerId: string,
  fileId: string,
  version: number,
): Promise<void> {
  // The version references these chunks, so their ownership rows cannot be dropped under us.
  await tx`
    UPDATE chunk_owners o SET reference_count = o.reference_count + t.n
    FROM (SELECT chunk_hash, count(*)::int AS n FROM file_chunks
          WHERE owner_id = ${ownerId} AND file_id = ${fileId} AND version = ${version} GROUP BY chunk_hash) AS t
    WHERE o.owner_id = ${ownerId} AND o.hash = t.chunk_hash`;
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

/** Owners with ownership rows unreferenced past their grace period (a fan-out read, for the collector). */
export async function ownersWithCollectableOwnership(sql: Sql, now: Date, limit: number): Promise<string[]> {
  const rows = await sql<{ owner_id: string }[]>`
    /* cross-owner: garbage collection finds the owners whose unreferenced ownership expired (fan-out read) */
    SELECT DISTINCT owner_id FROM chunk_owners
    WHERE reference_count = 0 AND collectable_after < ${now} LIMIT ${limit}`;
  return rows.map((row) => row.owner_id);
}

/** This owner's ownership rows unreferenced past their grace period. */
export async function collectableOwnership(
  sql: Sql,
  ownerId: string,
  now: Date,
  limit: number,
): Promise<string[]> {
  const rows = await sql<{ hash: string }[]>`
    SELECT hash FROM chunk_owners
    WHERE owner_id = ${ownerId} AND reference_count = 0 AND collectable_after < ${now}
    ORDER BY hash LIMIT ${limit}`;
  return rows.map((row) => row.hash);
}

/**
 * Drops those of `hashes` still unreferenced past their grace period (a commit that referenced one
 * meanwhile holds its row lock, and the row is re-checked after it). Returns the dropped ones.
 */
export async function dropOwnership(
  sql: Sql,
  ownerId: string,
  hashes: readonly string[],
  now: Date,
): Promise<string[]> {
  const rows = await sql<{ hash: string }[]>`
    DELETE FROM chunk_owners WHERE owner_id = ${ownerId} AND hash IN (
      SELECT hash FROM chunk_owners
      WHERE owner_id = ${ownerId} AND hash = ANY(${[...hashes]}::text[]) AND reference_count = 0
        AND collectable_after < ${now}
      ORDER BY hash FOR UPDATE)
    RETURNING hash`;
  return rows.map((row) => row.hash);
}

export type Hold = "owned" | "uploading";

/**
 * Who holds any of `hashes`, over all users: an ownership row or an upload tag (a fan-out read; per
 * user one snapshot, so a verification swapping its tag for ownership is seen as one or the other).
 */
export async function holdersOf(sql: Sql, hashes: readonly string[]): Promise<Map<ChunkHash, Hold>> {
  if (hashes.length === 0) return new Map();
  const rows = await sql<{ hash: ChunkHash; owned: boolean }[]>`
    /* cross-owner: garbage collection asks whether anybody still holds these objects (fan-out read) */
    SELECT hash, bool_or(owned) AS owned FROM (
      SELECT hash, true AS owned FROM chunk_owners WHERE hash = ANY(${[...hashes]}::text[])
      UNION ALL SELECT hash, false FROM chunk_uploads WHERE hash = ANY(${[...hashes]}::text[])
    ) AS h GROUP BY hash`;
  return new Map(rows.map((row) => [row.hash, row.owned ? "owned" : "uploading"]));
}
