import type { Sql } from "postgres";
import { inTransaction } from "./transaction.ts";

/**
 * Owners with versions created before `cutoff` that are not their file's current one (a fan-out read
 * that finds work; the pruning itself is per owner).
 */
export async function ownersWithExpiredVersions(sql: Sql, cutoff: Date, limit: number): Promise<string[]> {
  const rows = await sql<{ owner_id: string }[]>`
    /* cross-owner: retention finds the owners with expired versions (fan-out read) */
    SELECT DISTINCT v.owner_id FROM file_versions v
    JOIN files f ON f.owner_id = v.owner_id AND f.id = v.file_id
    WHERE v.created_at < ${cutoff} AND v.version < f.current_version LIMIT ${limit}`;
  return rows.map((row) => row.owner_id);
}

/**
 * Prunes up to `limit` of this owner's versions created before `cutoff`, never a file's current one,
 * in one transaction on the owner's shard: drops their chunk lists and journal entries (the file's
 * later change supersedes them) and their chunk references; an ownership row left with none becomes
 * collectable at `collectableAfter`. Returns how many versions went.
 */
export async function pruneVersionsOf(
  sql: Sql,
  ownerId: string,
  cutoff: Date,
  collectableAfter: Date,
  limit: number,
): Promise<number> {
  return inTransaction(sql, async (tx) => {
    // Locked so a restore reading one of these versions waits, then finds it gone (not_found).
    const versions = await tx<{ file_id: string; version: number }[]>`
      SELECT v.file_id, v.version FROM file_versions v
      JOIN files f ON f.owner_id = v.owner_id AND f.id = v.file_id
      WHERE v.owner_id = ${ownerId} AND v.created_at < ${cutoff} AND v.version < f.current_version
      ORDER BY v.created_at LIMIT ${limit}
      FOR UPDATE OF v SKIP LOCKED`;
    if (versions.length === 0) return 0;
    const files = versions.map((v) => v.file_id);
    const numbers = versions.map((v) => v.version);
    const pruned = tx`SELECT * FROM unnest(${files}::uuid[], ${numbers}::int[]) AS p(file_id, version)`;
    await tx`
      UPDATE chunk_owners o SET reference_count = o.reference_count - t.n,
        collectable_after = CASE WHEN o.reference_count - t.n = 0 THEN ${collectableAfter} ELSE o.collectable_after END
      FROM (SELECT fc.chunk_hash, count(*)::int AS n FROM file_chunks fc
            JOIN (${pruned}) p ON p.file_id = fc.file_id AND p.version = fc.version
            WHERE fc.owner_id = ${ownerId} GROUP BY fc.chunk_hash ORDER BY fc.chunk_hash) AS t
      WHERE o.owner_id = ${ownerId} AND o.hash = t.chunk_hash`;
    await tx`
      DELETE FROM file_versions v USING (${pruned}) p
      WHERE v.owner_id = ${ownerId} AND v.file_id = p.file_id AND v.version = p.version`;
    return versions.length;
  });
}

/** The owners with upload tags issued before `before` (a fan-out read that finds work). */
export async function ownersWithStaleUploadTags(sql: Sql, before: Date, limit: number): Promise<string[]> {
  const rows = await sql<{ owner_id: string }[]>`
    /* cross-owner: housekeeping finds the owners with stale upload tags (fan-out read) */
    SELECT DISTINCT owner_id FROM chunk_uploads WHERE issued_at < ${before} LIMIT ${limit}`;
  return rows.map((row) => row.owner_id);
}

/** Drops this owner's upload tags of URLs issued before `before` that were never verified. */
export async function deleteStaleUploadTags(sql: Sql, ownerId: string, before: Date): Promise<number> {
  return (await sql`DELETE FROM chunk_uploads WHERE owner_id = ${ownerId} AND issued_at < ${before}`).count;
}
