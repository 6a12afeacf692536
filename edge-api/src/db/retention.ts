import type { Sql } from "postgres";
import { inTransaction } from "./transaction.ts";

/**
 * Prunes up to `limit` versions created before `cutoff`, never a file's current one: drops their
 * chunk lists and journal entries (the file's later change supersedes them) and their chunk
 * references; a chunk left with none becomes collectable at `collectableAfter`. Returns how many
 * versions went.
 */
export async function pruneVersionsBefore(
  sql: Sql,
  cutoff: Date,
  collectableAfter: Date,
  limit: number,
): Promise<number> {
  return inTransaction(sql, async (tx) => {
    // Locked so a restore reading one of these versions waits, then finds it gone (not_found).
    const versions = await tx<{ owner_id: string; file_id: string; version: number }[]>`
      /* cross-owner: retention finds expired versions of all users */
      SELECT v.owner_id, v.file_id, v.version FROM file_versions v
      JOIN files f ON f.owner_id = v.owner_id AND f.id = v.file_id
      WHERE v.created_at < ${cutoff} AND v.version < f.current_version
      ORDER BY v.created_at LIMIT ${limit}
      FOR UPDATE OF v SKIP LOCKED`;
    if (versions.length === 0) return 0;
    const owners = versions.map((v) => v.owner_id);
    const files = versions.map((v) => v.file_id);
    const numbers = versions.map((v) => v.version);
    const pruned = tx`
      SELECT * FROM unnest(${owners}::uuid[], ${files}::uuid[], ${numbers}::int[]) AS p(owner_id, file_id, version)`;
    const references = await tx<{ chunk_hash: string; n: number }[]>`
      /* cross-owner: retention joins the versions it pruned */
      SELECT fc.chunk_hash, count(*)::int AS n FROM file_chunks fc
      JOIN (${pruned}) p ON p.owner_id = fc.owner_id AND p.file_id = fc.file_id AND p.version = fc.version
      GROUP BY fc.chunk_hash ORDER BY fc.chunk_hash`;
    if (references.length > 0) {
      const hashes = references.map((r) => r.chunk_hash);
      const counts = references.map((r) => r.n);
      await tx`SELECT 1 FROM chunks WHERE hash = ANY(${hashes}::text[]) ORDER BY hash FOR UPDATE`;
      await tx`
        UPDATE chunks c SET reference_count = c.reference_count - t.n,
          collectable_after = CASE WHEN c.reference_count - t.n = 0 THEN ${collectableAfter} ELSE c.collectable_after END
        FROM unnest(${hashes}::text[], ${counts}::int[]) AS t(hash, n)
        WHERE c.hash = t.hash`;
    }
    await tx`
      /* cross-owner: retention joins the versions it pruned */
      DELETE FROM file_versions v USING (${pruned}) p
      WHERE v.owner_id = p.owner_id AND v.file_id = p.file_id AND v.version = p.version`;
    return versions.length;
  });
}

/** Drops upload tags of URLs issued before `before` that were never verified. */
export async function deleteStaleUploadTags(sql: Sql, before: Date): Promise<number> {
  return (
    await sql`/* cross-owner: housekeeping by age */ DELETE FROM chunk_uploads WHERE issued_at < ${before}`
  ).count;
}
