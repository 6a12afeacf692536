import {
  ApiError,
  type ChunkHash,
  type FileMetadata,
  type FileVersion,
  limits,
} from "@wsync/shared-protocol";
import type { Sql } from "postgres";
import { type ChangeOutcome, runChange, type Writer } from "./change-transaction.ts";
import { appendChanges } from "./changes.ts";
import { holdChunksForVersion } from "./chunks.ts";
import {
  checkParentFolder,
  expectFreeName,
  expectNextVersion,
  insertVersion,
  lockFile,
  tooDeep,
} from "./file-rows.ts";

/** Creating files and committing their content; reading files and their history. */

export type { ChangeOutcome, Writer } from "./change-transaction.ts";

export interface NewFile {
  parentId: string | null;
  name: string;
  isFolder: boolean;
  chunks: readonly ChunkHash[];
  /** Always false for a folder. */
  executable: boolean;
  /** Sizes of chunks whose uploads were just verified against the store. */
  verifiedSizes: ReadonlyMap<string, number>;
}

function sizeOf(chunks: readonly string[], sizes: ReadonlyMap<string, number>): number {
  return chunks.reduce((total, hash) => total + (sizes.get(hash) ?? 0), 0);
}

/** `POST /files`: version 1 of a new file or folder, its content checked like a commit. */
export async function createFile(sql: Sql, writer: Writer, file: NewFile): Promise<ChangeOutcome> {
  const { ownerId, deviceId, now } = writer;
  const fileId = crypto.randomUUID();
  return runChange(sql, writer, async (tx) => {
    const depth = await checkParentFolder(tx, ownerId, file.parentId);
    if (depth + 1 > limits.folderDepthMax) throw tooDeep();
    await expectFreeName(tx, ownerId, file.parentId, file.name);
    const sizes = await holdChunksForVersion(tx, ownerId, file.chunks, file.verifiedSizes, now);
    const size = sizeOf(file.chunks, sizes);
    await tx`
      INSERT INTO files (owner_id, id, parent_id, name, is_folder, current_version, size, created_at, updated_at)
      VALUES (${ownerId}, ${fileId}, ${file.parentId}, ${file.name}, ${file.isFolder}, 1, ${size}, ${now}, ${now})`;
    await insertVersion(tx, {
      ownerId,
      fileId,
      version: 1,
      action: "created",
      name: file.name,
      parentId: file.parentId,
      isFolder: file.isFolder,
      deleted: false,
      size,
      deviceId,
      now,
      content: { chunks: file.chunks, executable: file.executable && !file.isFolder },
    });
    await appendChanges(tx, ownerId, [{ fileId, version: 1, action: "created", deviceId }], size, now);
    return { fileId, version: 1, updatedAt: now.toISOString() };
  });
}

export interface NewContent {
  fileId: string;
  version: number;
  chunks: readonly ChunkHash[];
  executable: boolean;
  verifiedSizes: ReadonlyMap<string, number>;
}

/**
 * `POST /files/{id}/commit`: optimistic locking in one transaction. The file row lock makes concurrent
 * commits of the same next version queue; the first wins and the rest see the new current version and
 * get `version_conflict`, having written nothing.
 */
export async function commitVersion(sql: Sql, writer: Writer, content: NewContent): Promise<ChangeOutcome> {
  const { ownerId, deviceId, now } = writer;
  return runChange(sql, writer, async (tx) => {
    const file = await lockFile(tx, ownerId, content.fileId);
    expectNextVersion(file, content.version);
    if (file.is_folder) {
      throw new ApiError("validation_failed", "a folder has no content to commit", {
        issues: [{ path: ["chunks"], message: "the file is a folder" }],
      });
    }
    const sizes = await holdChunksForVersion(tx, ownerId, content.chunks, content.verifiedSizes, now);
    const size = sizeOf(content.chunks, sizes);
    await insertVersion(tx, {
      ownerId,
      fileId: file.id,
      version: content.version,
      action: "modified",
      name: file.name,
      parentId: file.parent_id,
      isFolder: false,
      deleted: false,
      size,
      deviceId,
      now,
      content: { chunks: content.chunks, executable: content.executable },
    });
    await tx`
      UPDATE files SET current_version = ${content.version}, size = ${size}, updated_at = ${now}
      WHERE owner_id = ${ownerId} AND id = ${file.id}`;
    const entry = { fileId: file.id, version: content.version, action: "modified" as const, deviceId };
    await appendChanges(tx, ownerId, [entry], size - Number(file.size), now);
    return { fileId: file.id, version: content.version, updatedAt: now.toISOString() };
  });
}

export async function readFileMetadata(sql: Sql, ownerId: string, fileId: string): Promise<FileMetadata> {
  const [row] = await sql<
    {
      parent_id: string | null;
      name: string;
      is_folder: boolean;
      current_version: number;
      size: string;
      updated_at: Date;
      deleted_at: Date | null;
      executable: boolean | null;
      chunks: ChunkHash[];
    }[]
  >`
    SELECT f.parent_id, f.name, f.is_folder, f.current_version, f.size, f.updated_at, f.deleted_at,
      (SELECT v.executable FROM file_versions v
       WHERE v.owner_id = f.owner_id AND v.file_id = f.id AND v.version = f.current_version) AS executable,
      ARRAY(SELECT fc.chunk_hash FROM file_chunks fc
            WHERE fc.owner_id = f.owner_id AND fc.file_id = f.id AND fc.version = f.current_version
            ORDER BY fc.chunk_index) AS chunks
    FROM files f WHERE f.owner_id = ${ownerId} AND f.id = ${fileId}`;
  if (!row) throw new ApiError("not_found", "no such file");
  return {
    fileId,
    parentId: row.parent_id,
    name: row.name,
    isFolder: row.is_folder,
    version: row.current_version,
    size: Number(row.size),
    chunks: row.chunks,
    executable: row.executable ?? false,
    updatedAt: row.updated_at.toISOString(),
    deleted: row.deleted_at !== null,
  };
}

/** The stored versions of a file, newest first (pruned ones are gone). */
export async function listFileVersions(sql: Sql, ownerId: string, fileId: string): Promise<FileVersion[]> {
  const rows = await sql<
    {
      version: number;
      size: string;
      action: FileVersion["action"];
      name: string;
      parent_id: string | null;
      device_id: string | null;
      device_name: string | null;
      created_at: Date;
      executable: boolean;
      chunks: ChunkHash[];
    }[]
  >`
    SELECT v.version, v.size, v.action, v.name, v.parent_id, v.device_id, d.name AS device_name, v.created_at,
      v.executable,
      ARRAY(SELECT fc.chunk_hash FROM file_chunks fc
            WHERE fc.owner_id = v.owner_id AND fc.file_id = v.file_id AND fc.version = v.version
            ORDER BY fc.chunk_index) AS chunks
    FROM file_versions v
    LEFT JOIN devices d ON d.owner_id = v.owner_id AND d.id = v.device_id
    WHERE v.owner_id = ${ownerId} AND v.file_id = ${fileId}
    ORDER BY v.version DESC`;
  if (rows.length === 0) throw new ApiError("not_found", "no such file");
  return rows.map((row) => ({
    version: row.version,
    size: Number(row.size),
    chunks: row.chunks,
    executable: row.executable,
    action: row.action,
    name: row.name,
    parentId: row.parent_id,
    deviceId: row.device_id,
    deviceName: row.device_name,
    createdAt: row.created_at.toISOString(),
  }));
}

/** `not_found` unless `fileId` is one of this user's files (deleted ones included). */
export async function expectOwnFile(sql: Sql, ownerId: string, fileId: string): Promise<void> {
  const rows = await sql`SELECT 1 FROM files WHERE owner_id = ${ownerId} AND id = ${fileId}`;
  if (rows.length === 0) throw new ApiError("not_found", "no such file");
}

/** The file's current version, or null when this user has no such file. */
export async function currentVersionOf(sql: Sql, ownerId: string, fileId: string): Promise<number | null> {
  const [row] = await sql<{ current_version: number }[]>`
    SELECT current_version FROM files WHERE owner_id = ${ownerId} AND id = ${fileId}`;
  return row?.current_version ?? null;
}
