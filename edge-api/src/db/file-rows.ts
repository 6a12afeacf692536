import { ApiError, type ChunkHash, type FileAction, limits } from "@wsync/shared-protocol";
import type { TransactionSql } from "postgres";
import { addChunkReferences, addReferencesOfVersion } from "./chunks.ts";

/** Row-level helpers shared by the file operations; each runs inside the caller's transaction. */

export interface FileRow {
  id: string;
  parent_id: string | null;
  name: string;
  is_folder: boolean;
  current_version: number;
  size: string;
  deleted_at: Date | null;
  deletion_id: string | null;
}

/** Locks and returns the user's file, or `not_found` (also for another user's file: never leak). */
export async function lockFile(tx: TransactionSql, ownerId: string, fileId: string): Promise<FileRow> {
  const [row] = await tx<FileRow[]>`
    SELECT id, parent_id, name, is_folder, current_version, size, deleted_at, deletion_id FROM files
    WHERE owner_id = ${ownerId} AND id = ${fileId} FOR UPDATE`;
  if (!row) throw new ApiError("not_found", "no such file");
  return row;
}

/** A stale `version` (not current plus 1) is `version_conflict`; a deleted file is `file_deleted`. */
export function expectNextVersion(file: FileRow, version: number, allowDeleted = false): void {
  if (file.deleted_at && !allowDeleted) {
    throw new ApiError("file_deleted", "the file is deleted", { currentVersion: file.current_version });
  }
  if (version !== file.current_version + 1) {
    throw new ApiError(
      "version_conflict",
      `expected version ${file.current_version + 1}, file is at ${file.current_version}`,
      { currentVersion: file.current_version },
    );
  }
}

/**
 * Checks that `parentId` can hold a new child: null (the root) or a live folder of this user, not too
 * deep. Returns the parent's depth (the root's children are at depth 1).
 */
export async function checkParentFolder(
  tx: TransactionSql,
  ownerId: string,
  parentId: string | null,
): Promise<number> {
  if (parentId === null) return 0;
  const [parent] = await tx<ParentRow[]>`
    SELECT is_folder, deleted_at, current_version FROM files WHERE owner_id = ${ownerId} AND id = ${parentId}`;
  const problem = parentProblem(parentId, parent);
  if (problem) throw problem;
  return (await ancestorsOf(tx, ownerId, parentId)).length;
}

export interface ParentRow {
  is_folder: boolean;
  deleted_at: Date | null;
  current_version: number;
}

/** Why `parent` (the row of `parentId`, if any) cannot hold a new child, or null when it can. */
export function parentProblem(parentId: string, parent: ParentRow | undefined): ApiError | null {
  if (!parent) return new ApiError("not_found", "no such parent folder", { parentId });
  if (!parent.is_folder) {
    return new ApiError("validation_failed", "the parent is not a folder", {
      issues: [{ path: ["parentId"], message: "not a folder" }],
    });
  }
  if (parent.deleted_at) {
    return new ApiError("file_deleted", "the parent folder is deleted", {
      fileId: parentId,
      currentVersion: parent.current_version,
    });
  }
  return null;
}

/** `fileId` and its ancestors up to the root, nearest first. */
export async function ancestorsOf(tx: TransactionSql, ownerId: string, fileId: string): Promise<string[]> {
  const rows = await tx<{ id: string }[]>`
    WITH RECURSIVE up(id, parent_id, depth) AS (
      SELECT id, parent_id, 1 FROM files WHERE owner_id = ${ownerId} AND id = ${fileId}
      UNION ALL
      SELECT f.id, f.parent_id, up.depth + 1 FROM files f JOIN up ON f.owner_id = ${ownerId} AND f.id = up.parent_id
      WHERE up.depth <= ${limits.folderDepthMax + 1}
    )
    SELECT id FROM up ORDER BY depth`;
  return rows.map((row) => row.id);
}

export function tooDeep(): ApiError {
  return new ApiError("validation_failed", `folders nest at most ${limits.folderDepthMax} deep`, {
    issues: [{ path: ["parentId"], message: "too deep" }],
  });
}

/** A live sibling named `name` under `parentId` (other than `exceptId`) is `name_conflict`. */
export async function expectFreeName(
  tx: TransactionSql,
  ownerId: string,
  parentId: string | null,
  name: string,
  exceptId?: string,
): Promise<void> {
  const [sibling] = await tx<{ id: string }[]>`
    SELECT id FROM files
    WHERE owner_id = ${ownerId} AND parent_id IS NOT DISTINCT FROM ${parentId} AND name = ${name}
      AND deleted_at IS NULL AND id IS DISTINCT FROM ${exceptId ?? null}`;
  if (sibling)
    throw new ApiError("name_conflict", "a live sibling already has that name", { fileId: sibling.id });
}

export interface VersionRecord {
  ownerId: string;
  fileId: string;
  version: number;
  action: FileAction;
  name: string;
  parentId: string | null;
  isFolder: boolean;
  deleted: boolean;
  size: number;
  deviceId: string | null;
  now: Date;
  /**
   * The content: a new chunk list (rows already locked) and executable bit, or those of an existing
   * version.
   */
  content: { chunks: readonly ChunkHash[]; executable: boolean } | { sameAsVersion: number };
}

/** Writes a version row, its ordered chunk list and the chunk references it adds. */
export async function insertVersion(tx: TransactionSql, v: VersionRecord): Promise<void> {
  const executable =
    "chunks" in v.content
      ? tx`${v.content.executable}::boolean`
      : tx`(SELECT executable FROM file_versions
            WHERE owner_id = ${v.ownerId} AND file_id = ${v.fileId} AND version = ${v.content.sameAsVersion})`;
  await tx`
    INSERT INTO file_versions (owner_id, file_id, version, action, name, parent_id, is_folder, deleted, size, device_id, created_at, executable)
    VALUES (${v.ownerId}, ${v.fileId}, ${v.version}, ${v.action}, ${v.name}, ${v.parentId}, ${v.isFolder},
      ${v.deleted}, ${v.size}, ${v.deviceId}, ${v.now}, COALESCE(${executable}, false))`;
  if ("chunks" in v.content) {
    const chunks: string[] = [...v.content.chunks];
    if (chunks.length === 0) return;
    await tx`
      INSERT INTO file_chunks (owner_id, file_id, version, chunk_index, chunk_hash)
      SELECT ${v.ownerId}, ${v.fileId}, ${v.version}, t.i - 1, t.h FROM unnest(${chunks}::text[]) WITH ORDINALITY AS t(h, i)`;
    await addChunkReferences(tx, v.ownerId, chunks);
  } else {
    const from = v.content.sameAsVersion;
    await tx`
      INSERT INTO file_chunks (owner_id, file_id, version, chunk_index, chunk_hash)
      SELECT owner_id, file_id, ${v.version}, chunk_index, chunk_hash FROM file_chunks
      WHERE owner_id = ${v.ownerId} AND file_id = ${v.fileId} AND version = ${from}`;
    await addReferencesOfVersion(tx, v.ownerId, v.fileId, from);
  }
}
