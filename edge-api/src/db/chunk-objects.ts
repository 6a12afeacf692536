import type { ChunkHash } from "@wsync/shared-protocol";
import type { Sql } from "postgres";

/**
 * The store's objects (chunk_objects: global, one row per hash, distributed by hash under Citus).
 * No user transaction touches this table: every write here is one statement of its own, before a
 * user's transaction (pins) or in the collector. Whether a user may rely on an object is decided on
 * the user's own shard (chunk_owners, chunk_uploads); how the two meet safely is in
 * jobs/garbage-collection.ts.
 */

/**
 * Keeps `hashes` from collection until `until` and marks them for the collector to look at once that
 * has passed, creating unknown ones. Returns those already claimed for deletion: they cannot be
 * relied on. The caller must hold the user's claim on them (an upload tag) before pinning.
 */
export async function pinObjects(sql: Sql, hashes: readonly string[], until: Date): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  const sorted = [...new Set(hashes)].sort();
  const rows = await sql<{ hash: string; claimed: boolean }[]>`
    INSERT INTO chunk_objects (hash, pinned_until, gc_check)
    SELECT h, ${until}, nextval('chunk_object_gc_checks') FROM unnest(${sorted}::text[]) AS h ORDER BY h
    ON CONFLICT (hash) DO UPDATE SET pinned_until = greatest(chunk_objects.pinned_until, excluded.pinned_until),
      gc_check = excluded.gc_check
    RETURNING hash, deleting_since IS NOT NULL AS claimed`;
  return new Set(rows.filter((row) => row.claimed).map((row) => row.hash));
}

/** Records the sizes a verification saw (bookkeeping only: the user's shard has its own copy). */
export async function recordObjectSizes(sql: Sql, sizes: ReadonlyMap<string, number>): Promise<void> {
  if (sizes.size === 0) return;
  const hashes = [...sizes.keys()].sort();
  const values = hashes.map((hash) => String(sizes.get(hash)));
  await sql`
    UPDATE chunk_objects o SET size = t.size FROM unnest(${hashes}::text[], ${values}::bigint[]) AS t(hash, size)
    WHERE o.hash = t.hash AND o.size IS NULL`;
}

/** Marks objects for the collector (an owner is about to drop its ownership of them). */
export async function markObjectsForCheck(sql: Sql, hashes: readonly string[]): Promise<void> {
  if (hashes.length === 0) return;
  await sql`
    UPDATE chunk_objects SET gc_check = nextval('chunk_object_gc_checks')
    WHERE hash = ANY(${[...hashes].sort()}::text[])`;
}

export interface ObjectToCheck {
  hash: ChunkHash;
  /** The mark read, so that clearing it cannot clear a newer one. */
  check: string;
}

/** Marked, unclaimed objects whose pin expired before `now`, in hash order after `after`. */
export async function objectsToCheck(
  sql: Sql,
  now: Date,
  after: string,
  limit: number,
): Promise<ObjectToCheck[]> {
  return sql<ObjectToCheck[]>`
    SELECT hash, gc_check::text AS check FROM chunk_objects
    WHERE gc_check IS NOT NULL AND deleting_since IS NULL AND pinned_until < ${now} AND hash > ${after}
    ORDER BY hash LIMIT ${limit}`;
}

/** Clears the marks of objects some owner holds: that owner's dropping its row will mark them again. */
export async function clearChecks(sql: Sql, objects: readonly ObjectToCheck[]): Promise<void> {
  if (objects.length === 0) return;
  await sql`
    UPDATE chunk_objects o SET gc_check = NULL
    FROM unnest(${objects.map((o) => o.hash)}::text[], ${objects.map((o) => o.check)}::bigint[]) AS t(hash, check_seen)
    WHERE o.hash = t.hash AND o.gc_check = t.check_seen`;
}

/** Claims those of `hashes` still unclaimed and unpinned at `now`; returns the claimed ones. */
export async function claimObjects(sql: Sql, hashes: readonly string[], now: Date): Promise<ChunkHash[]> {
  if (hashes.length === 0) return [];
  const rows = await sql<{ hash: ChunkHash }[]>`
    UPDATE chunk_objects SET deleting_since = ${now}
    WHERE hash = ANY(${[...hashes].sort()}::text[]) AND deleting_since IS NULL AND pinned_until < ${now}
    RETURNING hash`;
  return rows.map((row) => row.hash).sort();
}

/** Gives back claims on objects found held after all (they stay marked, to be looked at again). */
export async function releaseObjects(sql: Sql, hashes: readonly string[]): Promise<void> {
  if (hashes.length === 0) return;
  await sql`UPDATE chunk_objects SET deleting_since = NULL WHERE hash = ANY(${[...hashes]}::text[])`;
}

/**
 * Drops the rows of objects deleted from the store; a later upload of the same bytes starts afresh.
 * Not those pinned again since the claim (an upload URL issued meanwhile, whose bytes may arrive
 * after the delete): their rows stay, to track what that upload leaves. Returns the forgotten ones.
 */
export async function forgetObjects(sql: Sql, hashes: readonly string[], now: Date): Promise<string[]> {
  if (hashes.length === 0) return [];
  const rows = await sql<{ hash: string }[]>`
    DELETE FROM chunk_objects
    WHERE hash = ANY(${[...hashes]}::text[]) AND deleting_since IS NOT NULL AND pinned_until < ${now}
    RETURNING hash`;
  return rows.map((row) => row.hash);
}

/** Claims older than `claimedBefore` whose deletion did not finish (a crash in between), to redo. */
export async function stalledClaims(sql: Sql, claimedBefore: Date, limit: number): Promise<ChunkHash[]> {
  const rows = await sql<{ hash: ChunkHash }[]>`
    SELECT hash FROM chunk_objects WHERE deleting_since < ${claimedBefore} ORDER BY hash LIMIT ${limit}`;
  return rows.map((row) => row.hash);
}
