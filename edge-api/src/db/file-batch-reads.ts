import { limits } from "@wsync/shared-protocol";
import type { TransactionSql } from "postgres";
import type { ParentRow } from "./file-rows.ts";

/** Set-based reads of a batch create: one statement for all parents, one per kind of sibling lookup. */

export interface ParentWithDepth extends ParentRow {
  /** The parent's depth: the root's children are at depth 1. */
  depth: number;
}

/** The rows of `parentIds` this user has, each with its depth (ancestorsOf's length, for all at once). */
export async function parentsWithDepth(
  tx: TransactionSql,
  ownerId: string,
  parentIds: readonly string[],
): Promise<Map<string, ParentWithDepth>> {
  if (parentIds.length === 0) return new Map();
  const ids = [...parentIds];
  const rows = await tx<(ParentRow & { id: string; depth: number })[]>`
    WITH RECURSIVE up(start, id, parent_id, depth) AS (
      SELECT f.id, f.id, f.parent_id, 1 FROM files f WHERE f.owner_id = ${ownerId} AND f.id = ANY(${ids}::uuid[])
      UNION ALL
      SELECT up.start, a.id, a.parent_id, up.depth + 1 FROM files a JOIN up ON a.owner_id = ${ownerId} AND a.id = up.parent_id
      WHERE up.depth <= ${limits.folderDepthMax + 1}
    )
    SELECT p.id, p.is_folder, p.deleted_at, p.current_version,
      (SELECT max(up.depth) FROM up WHERE up.start = p.id)::int AS depth
    FROM files p WHERE p.owner_id = ${ownerId} AND p.id = ANY(${ids}::uuid[])`;
  return new Map(rows.map(({ id, ...row }) => [id, row]));
}

export interface SiblingQuery {
  /** The item's index in the batch. */
  index: number;
  parentId: string | null;
  name: string;
}

/**
 * For each of `queries`, the live item already named so in its folder (by the item's index). Items in
 * the root are looked up apart: `parent_id = x` keeps to the (owner_id, parent_id, name) index, which
 * `IS NOT DISTINCT FROM` would not. One index probe per item (a LATERAL with LIMIT, which the planner
 * cannot flatten into a join): a plain join was planned from stale statistics as a hash join or a loop
 * over ALL the owner's files, once per batch, so a first sync of 20,000 files spent most of its time in
 * this statement and slowed down as the owner's tree grew.
 */
export async function liveSiblings(
  tx: TransactionSql,
  ownerId: string,
  queries: readonly SiblingQuery[],
): Promise<Map<number, string>> {
  const inFolders = queries.filter((q) => q.parentId !== null);
  const inRoot = queries.filter((q) => q.parentId === null);
  const found = new Map<number, string>();
  if (inFolders.length > 0) {
    const rows = await tx<{ i: number; id: string }[]>`
      SELECT t.i, f.id FROM unnest(${inFolders.map((q) => q.index)}::int[],
        ${inFolders.map((q) => q.parentId as string)}::uuid[], ${inFolders.map((q) => q.name)}::text[])
        AS t(i, parent_id, name)
      CROSS JOIN LATERAL (SELECT f.id FROM files f WHERE f.owner_id = ${ownerId}
        AND f.parent_id = t.parent_id AND f.name = t.name AND f.deleted_at IS NULL LIMIT 1) f`;
    for (const row of rows) found.set(row.i, row.id);
  }
  if (inRoot.length > 0) {
    const rows = await tx<{ i: number; id: string }[]>`
      SELECT t.i, f.id FROM unnest(${inRoot.map((q) => q.index)}::int[], ${inRoot.map((q) => q.name)}::text[])
        AS t(i, name)
      CROSS JOIN LATERAL (SELECT f.id FROM files f WHERE f.owner_id = ${ownerId}
        AND f.parent_id IS NULL AND f.name = t.name AND f.deleted_at IS NULL LIMIT 1) f`;
    for (const row of rows) found.set(row.i, row.id);
  }
  return found;
}

/** Storage used and the quota, read under the owner row lock the change holds. */
export async function storageOf(
  tx: TransactionSql,
  ownerId: string,
): Promise<{ used: bigint; quota: bigint }> {
  const [user] = await tx<{ storage_used: string; storage_quota: string }[]>`
    SELECT storage_used, storage_quota FROM users WHERE id = ${ownerId}`;
  return { used: BigInt(user?.storage_used ?? 0), quota: BigInt(user?.storage_quota ?? 0) };
}
