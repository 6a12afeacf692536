import { ApiError, limits } from "@wsync/shared-protocol";
import type { Sql, TransactionSql } from "postgres";
import { type ChangeOutcome, runChange, type Writer } from "./change-transaction.ts";
import { appendChanges, type JournalEntry } from "./changes.ts";
import {
  ancestorsOf,
  checkParentFolder,
  expectFreeName,
  expectNextVersion,
  type FileRow,
  insertVersion,
  lockFile,
  tooDeep,
} from "./file-rows.ts";

/** Rename, move, delete and restore: each a new version of the file (and of what it carries along). */

export interface Move {
  fileId: string;
  version: number;
  name?: string | undefined;
  parentId?: string | null | undefined;
}

function invalidParent(message: string): ApiError {
  return new ApiError("validation_failed", message, { issues: [{ path: ["parentId"], message }] });
}

/** Live descendants of a folder with their depth below it, deepest first. */
async function liveDescendants(tx: TransactionSql, ownerId: string, folderId: string) {
  return tx<(FileRow & { depth: number })[]>`
    WITH RECURSIVE down AS (
      SELECT f.*, 1 AS depth FROM files f
      WHERE f.owner_id = ${ownerId} AND f.parent_id = ${folderId} AND f.deleted_at IS NULL
      UNION ALL
      SELECT f.*, down.depth + 1 FROM files f JOIN down ON f.owner_id = ${ownerId} AND f.parent_id = down.id
      WHERE f.deleted_at IS NULL
    )
    SELECT id, parent_id, name, is_folder, current_version, size, deleted_at, deletion_id, depth
    FROM down ORDER BY depth DESC, id`;
}

/** `PATCH /files/{id}`: rename and/or move, recorded as a version with the same content. */
export async function moveFile(sql: Sql, writer: Writer, move: Move): Promise<ChangeOutcome> {
  const { ownerId, deviceId, now } = writer;
  return runChange(sql, writer, async (tx) => {
    const file = await lockFile(tx, ownerId, move.fileId);
    expectNextVersion(file, move.version);
    const parentId = move.parentId === undefined ? file.parent_id : move.parentId;
    const name = move.name ?? file.name;
    if (parentId !== file.parent_id) {
      if (parentId === file.id) throw invalidParent("a folder cannot move into itself");
      const depth = await checkParentFolder(tx, ownerId, parentId);
      if (parentId !== null && (await ancestorsOf(tx, ownerId, parentId)).includes(file.id)) {
        throw invalidParent("a folder cannot move into its own subtree");
      }
      const below = file.is_folder ? ((await liveDescendants(tx, ownerId, file.id))[0]?.depth ?? 0) : 0;
      if (depth + 1 + below > limits.folderDepthMax) throw tooDeep();
    }
    await expectFreeName(tx, ownerId, parentId, name, file.id);
    await insertVersion(tx, {
      ownerId,
      fileId: file.id,
      version: move.version,
      action: "moved",
      name,
      parentId,
      isFolder: file.is_folder,
      deleted: false,
      size: Number(file.size),
      deviceId,
      now,
      content: { sameAsVersion: file.current_version },
    });
    await tx`
      UPDATE files SET current_version = ${move.version}, name = ${name}, parent_id = ${parentId}, updated_at = ${now}
      WHERE owner_id = ${ownerId} AND id = ${file.id}`;
    await appendChanges(
      tx,
      ownerId,
      [{ fileId: file.id, version: move.version, action: "moved", deviceId }],
      0,
      now,
    );
    return { fileId: file.id, version: move.version, updatedAt: now.toISOString() };
  });
}

/** Writes the next version of `file` as deleted (same content, so it can be restored). */
async function markDeleted(
  tx: TransactionSql,
  writer: Writer,
  file: FileRow,
  version: number,
  deletionId: string,
) {
  const { ownerId, deviceId, now } = writer;
  await insertVersion(tx, {
    ownerId,
    fileId: file.id,
    version,
    action: "deleted",
    name: file.name,
    parentId: file.parent_id,
    isFolder: file.is_folder,
    deleted: true,
    size: Number(file.size),
    deviceId,
    now,
    content: { sameAsVersion: file.current_version },
  });
  await tx`
    UPDATE files SET current_version = ${version}, deleted_at = ${now}, deletion_id = ${deletionId}, updated_at = ${now}
    WHERE owner_id = ${ownerId} AND id = ${file.id}`;
}

/**
 * `DELETE /files/{id}?version=N`: a soft delete as version N. A folder takes everything live under it
 * along, each item a version of its own (deepest first, the folder last), all in one transaction.
 */
export async function deleteFile(
  sql: Sql,
  writer: Writer,
  fileId: string,
  version: number,
): Promise<ChangeOutcome> {
  const { ownerId, deviceId, now } = writer;
  return runChange(sql, writer, async (tx) => {
    const file = await lockFile(tx, ownerId, fileId);
    expectNextVersion(file, version);
    const deletionId = crypto.randomUUID();
    const descendants = file.is_folder ? await liveDescendants(tx, ownerId, file.id) : [];
    const entries: JournalEntry[] = [];
    let freed = 0;
    for (const item of [...descendants, file]) {
      const next = item === file ? version : item.current_version + 1;
      await markDeleted(tx, writer, item, next, deletionId);
      entries.push({ fileId: item.id, version: next, action: "deleted", deviceId });
      freed += Number(item.size);
    }
    await appendChanges(tx, ownerId, entries, -freed, now);
    return { fileId: file.id, version, updatedAt: now.toISOString() };
  });
}

export interface Restore {
  fileId: string;
  version: number;
  fromVersion: number;
}

interface VersionRow {
  name: string;
  parent_id: string | null;
  size: string;
}

/** Brings a deleted item back as its next version, where it was when deleted (or at `place`). */
async function bringBack(
  tx: TransactionSql,
  writer: Writer,
  item: FileRow,
  version: number,
  place: { name: string; parentId: string | null; size: number; fromVersion: number },
): Promise<JournalEntry> {
  const { ownerId, deviceId, now } = writer;
  await expectFreeName(tx, ownerId, place.parentId, place.name, item.id);
  await insertVersion(tx, {
    ownerId,
    fileId: item.id,
    version,
    action: "created",
    name: place.name,
    parentId: place.parentId,
    isFolder: item.is_folder,
    deleted: false,
    size: place.size,
    deviceId,
    now,
    content: { sameAsVersion: place.fromVersion },
  });
  await tx`
    UPDATE files SET current_version = ${version}, name = ${place.name}, parent_id = ${place.parentId},
      size = ${place.size}, deleted_at = NULL, deletion_id = NULL, updated_at = ${now}
    WHERE owner_id = ${ownerId} AND id = ${item.id}`;
  return { fileId: item.id, version, action: "created", deviceId };
}

/** Brings back the deleted folders above `parentId`, top-down, so a restored item has a live home. */
async function reviveAncestors(tx: TransactionSql, writer: Writer, parentId: string | null) {
  if (parentId === null) return { entries: [] as JournalEntry[] };
  const chain = (await ancestorsOf(tx, writer.ownerId, parentId)).reverse();
  const entries: JournalEntry[] = [];
  for (const id of chain) {
    const folder = await lockFile(tx, writer.ownerId, id);
    if (!folder.deleted_at) continue;
    const place = {
      name: folder.name,
      parentId: folder.parent_id,
      size: 0,
      fromVersion: folder.current_version,
    };
    entries.push(await bringBack(tx, writer, folder, folder.current_version + 1, place));
  }
  return { entries };
}

/**
 * `POST /files/{id}/restore`: the content of `fromVersion` as the new version. A live file keeps its
 * name and folder (`modified`); a deleted one comes back (`created`) under its name and folder of
 * `fromVersion`, reviving deleted folders above it, and a folder brings back what its delete took.
 */
export async function restoreVersion(sql: Sql, writer: Writer, restore: Restore): Promise<ChangeOutcome> {
  const { ownerId, deviceId, now } = writer;
  return runChange(sql, writer, async (tx) => {
    const file = await lockFile(tx, ownerId, restore.fileId);
    expectNextVersion(file, restore.version, true);
    const [from] = await tx<VersionRow[]>`
      SELECT name, parent_id, size FROM file_versions
      WHERE owner_id = ${ownerId} AND file_id = ${file.id} AND version = ${restore.fromVersion}
      FOR SHARE`; // so retention cannot prune it under this restore (it skips locked versions)
    if (!from) throw new ApiError("not_found", "no such version", { fromVersion: restore.fromVersion });
    const size = Number(from.size);

    if (!file.deleted_at) {
      await insertVersion(tx, {
        ownerId,
        fileId: file.id,
        version: restore.version,
        action: "modified",
        name: file.name,
        parentId: file.parent_id,
        isFolder: file.is_folder,
        deleted: false,
        size,
        deviceId,
        now,
        content: { sameAsVersion: restore.fromVersion },
      });
      await tx`
        UPDATE files SET current_version = ${restore.version}, size = ${size}, updated_at = ${now}
        WHERE owner_id = ${ownerId} AND id = ${file.id}`;
      const entry: JournalEntry = { fileId: file.id, version: restore.version, action: "modified", deviceId };
      await appendChanges(tx, ownerId, [entry], size - Number(file.size), now);
      return { fileId: file.id, version: restore.version, updatedAt: now.toISOString() };
    }

    const { entries } = await reviveAncestors(tx, writer, from.parent_id);
    const depth = await checkParentFolder(tx, ownerId, from.parent_id);
    if (depth + 1 > limits.folderDepthMax) throw tooDeep();
    const place = { name: from.name, parentId: from.parent_id, size, fromVersion: restore.fromVersion };
    entries.push(await bringBack(tx, writer, file, restore.version, place));
    let added = size;
    if (file.is_folder && file.deletion_id) {
      // Top-down, so each item's folder is live again before the item returns.
      const takenAlong = await tx<(FileRow & { depth: number })[]>`
        WITH RECURSIVE down AS (
          SELECT f.*, 1 AS depth FROM files f
          WHERE f.owner_id = ${ownerId} AND f.parent_id = ${file.id} AND f.deletion_id = ${file.deletion_id}
          UNION ALL
          SELECT f.*, down.depth + 1 FROM files f JOIN down ON f.owner_id = ${ownerId} AND f.parent_id = down.id
          WHERE f.deletion_id = ${file.deletion_id}
        )
        SELECT id, parent_id, name, is_folder, current_version, size, deleted_at, deletion_id, depth
        FROM down ORDER BY depth, id`;
      for (const item of takenAlong) {
        const itemPlace = {
          name: item.name,
          parentId: item.parent_id,
          size: Number(item.size),
          fromVersion: item.current_version,
        };
        entries.push(await bringBack(tx, writer, item, item.current_version + 1, itemPlace));
        added += Number(item.size);
      }
    }
    await appendChanges(tx, ownerId, entries, added, now);
    return { fileId: file.id, version: restore.version, updatedAt: now.toISOString() };
  });
}
