import type { Sql } from "postgres";

/**
 * Cross-table facts that every committed state must satisfy; a half-written change breaks at least
 * one. Returns the violations (empty when all hold).
 */
export async function checkInvariants(sql: Sql): Promise<string[]> {
  const problems: string[] = [];
  const add = (what: string, rows: readonly unknown[]) => {
    if (rows.length > 0) problems.push(`${what}: ${JSON.stringify(rows.slice(0, 5))}`);
  };
  add(
    "an owner's chunk reference counts differ from its chunk lists",
    await sql`
      SELECT o.owner_id, o.hash, o.reference_count, count(fc.chunk_hash)::int AS actual FROM chunk_owners o
      LEFT JOIN file_chunks fc ON fc.owner_id = o.owner_id AND fc.chunk_hash = o.hash
      GROUP BY o.owner_id, o.hash HAVING o.reference_count <> count(fc.chunk_hash)`,
  );
  add(
    // No lost chunk: what a user owns (and so may reference) is in the store's object list, unclaimed.
    "an owned chunk has no object row, or one claimed for deletion",
    await sql`
      SELECT o.owner_id, o.hash FROM chunk_owners o LEFT JOIN chunk_objects co ON co.hash = o.hash
      WHERE co.hash IS NULL OR co.deleting_since IS NOT NULL`,
  );
  add(
    "storage used differs from the sum of live file sizes",
    await sql`
      SELECT u.id, u.storage_used, coalesce(sum(f.size) FILTER (WHERE f.deleted_at IS NULL), 0) AS actual
      FROM users u LEFT JOIN files f ON f.owner_id = u.id
      GROUP BY u.id HAVING u.storage_used <> coalesce(sum(f.size) FILTER (WHERE f.deleted_at IS NULL), 0)`,
  );
  add(
    "a file's current version is not its newest stored version",
    await sql`
      SELECT f.id, f.current_version, max(v.version) AS newest FROM files f
      JOIN file_versions v ON v.owner_id = f.owner_id AND v.file_id = f.id
      GROUP BY f.id, f.current_version HAVING f.current_version <> max(v.version)`,
  );
  add(
    "a file's row disagrees with its current version",
    await sql`
      SELECT f.id FROM files f JOIN file_versions v
        ON v.owner_id = f.owner_id AND v.file_id = f.id AND v.version = f.current_version
      WHERE v.name <> f.name OR v.parent_id IS DISTINCT FROM f.parent_id OR v.size <> f.size
        OR v.deleted <> (f.deleted_at IS NOT NULL)`,
  );
  add(
    "a version's size is not the sum of its chunks",
    await sql`
      SELECT v.file_id, v.version FROM file_versions v
      LEFT JOIN file_chunks fc ON fc.owner_id = v.owner_id AND fc.file_id = v.file_id AND fc.version = v.version
      LEFT JOIN chunk_owners c ON c.owner_id = fc.owner_id AND c.hash = fc.chunk_hash
      GROUP BY v.owner_id, v.file_id, v.version, v.size HAVING v.size <> coalesce(sum(c.size), 0)`,
  );
  add(
    "a version without its journal entry, or a journal entry without its event",
    await sql`
      SELECT v.file_id, v.version FROM file_versions v
      WHERE NOT EXISTS (SELECT 1 FROM changes c WHERE c.owner_id = v.owner_id AND c.file_id = v.file_id AND c.version = v.version)
        OR NOT EXISTS (SELECT 1 FROM outbox o WHERE o.owner_id = v.owner_id AND o.event->>'type' = 'file_changed'
                       AND o.event->>'fileId' = v.file_id::text AND (o.event->>'version')::int = v.version)`,
  );
  add(
    // (Entries below the newest may be gone: pruning drops superseded versions with their entries.)
    "the user's journal sequence is not its newest entry",
    await sql`
      SELECT u.id, u.journal_seq, max(c.seq) AS newest FROM users u
      LEFT JOIN changes c ON c.owner_id = u.id
      GROUP BY u.id, u.journal_seq HAVING u.journal_seq <> coalesce(max(c.seq), 0)`,
  );
  add(
    "a live item sits in a deleted folder",
    await sql`
      SELECT f.id FROM files f JOIN files p ON p.owner_id = f.owner_id AND p.id = f.parent_id
      WHERE f.deleted_at IS NULL AND p.deleted_at IS NOT NULL`,
  );
  return problems;
}
