import { z } from "zod";
import { ChunkHash } from "./chunk-hash.ts";
import { ByteSize, FileAction, Id, Timestamp, Version } from "./common.ts";
import { ErrorEnvelope } from "./errors.ts";
import { limits } from "./limits.ts";
import { FileName } from "./names.ts";

/** An ordered list of chunk hashes: a file's content. Empty: an empty file. */
export const ChunkList = z.array(ChunkHash).max(limits.chunksPerVersionMax);

/**
 * Extension: whether a file's content is executable (the owner's exec bit on POSIX). Absent means
 * false, so clients and rows from before the extension keep working. Stored per version, with the
 * chunk list: a commit that changes only this bit is a new version with the same chunks.
 */
export const Executable = z
  .boolean()
  .optional()
  .describe(
    "Extension: the file is executable (owner exec bit on POSIX; ignored where meaningless). Absent: false.",
  );

/** `POST /api/v1/files`. For a file, `chunks` is its content and is checked like a commit. */
export const CreateFileRequest = z
  .object({
    parentId: Id.nullable(),
    name: FileName,
    isFolder: z.boolean(),
    chunks: ChunkList.optional(),
    executable: Executable,
  })
  .refine((body) => !(body.isFolder && body.chunks && body.chunks.length > 0), {
    message: "a folder has no chunks",
    path: ["chunks"],
  })
  .refine((body) => !(body.isFolder && body.executable), {
    message: "a folder is not executable",
    path: ["executable"],
  });
export type CreateFileRequest = z.infer<typeof CreateFileRequest>;

/** The answer to create (201), commit, move, delete and restore (200). */
export const VersionReceipt = z.object({ fileId: Id, version: Version, updatedAt: Timestamp });
export type VersionReceipt = z.infer<typeof VersionReceipt>;

/**
 * Extension, `POST /api/v1/files/batch`: up to `limits.createBatchMax` creates in one request and one
 * transaction, so a first sync of many small files is not one round trip and one transaction per file.
 * Each item is checked exactly like `POST /files`.
 */
export const CreateFileBatchRequest = z.object({
  creates: z.array(CreateFileRequest).min(1).max(limits.createBatchMax),
});
export type CreateFileBatchRequest = z.infer<typeof CreateFileBatchRequest>;

/** One item's answer: its receipt, or the error envelope `POST /files` would have answered. */
export const CreateFileBatchResult = z.union([VersionReceipt, ErrorEnvelope]);
export type CreateFileBatchResult = z.infer<typeof CreateFileBatchResult>;

export const CreateFileBatchResponse = z.object({
  /** One result per item of `creates`, in request order. */
  results: z.array(CreateFileBatchResult),
});
export type CreateFileBatchResponse = z.infer<typeof CreateFileBatchResponse>;

/** `POST /api/v1/files/upload-url`. */
export const UploadUrlRequest = z.object({
  fileId: Id.optional(),
  chunkHash: ChunkHash,
  size: ByteSize.max(limits.chunkMaxBytes),
});
export type UploadUrlRequest = z.infer<typeof UploadUrlRequest>;

export const UploadUrlResponse = z.object({
  uploadUrl: z.string().nullable(),
  chunkId: Id,
  exists: z.boolean(),
  /** Headers the PUT must carry (the signed checksum); present when the PUT needs headers. */
  uploadHeaders: z.record(z.string(), z.string()).optional(),
});
export type UploadUrlResponse = z.infer<typeof UploadUrlResponse>;

/**
 * Extension, `POST /api/v1/files/upload-urls`: the batch form of upload-url, so a 5 GB file (about
 * 1,300 chunks) needs a couple of round trips rather than one per chunk.
 */
export const UploadUrlBatchRequest = z.object({
  fileId: Id.optional(),
  chunks: z
    .array(z.object({ chunkHash: ChunkHash, size: ByteSize.max(limits.chunkMaxBytes) }))
    .min(1)
    .max(limits.batchMax),
});
export type UploadUrlBatchRequest = z.infer<typeof UploadUrlBatchRequest>;

export const UploadUrlBatchResponse = z.object({
  /** One answer per requested chunk, in request order. */
  results: z.array(UploadUrlResponse.extend({ chunkHash: ChunkHash })),
});
export type UploadUrlBatchResponse = z.infer<typeof UploadUrlBatchResponse>;

/** `POST /api/v1/files/{fileId}/commit`: `version` is the new version (current plus 1). */
export const CommitRequest = z.object({ version: Version, chunks: ChunkList, executable: Executable });
export type CommitRequest = z.infer<typeof CommitRequest>;

/** `GET /api/v1/files/{fileId}`. */
export const FileMetadata = z.object({
  fileId: Id,
  parentId: Id.nullable(),
  name: z.string(),
  isFolder: z.boolean(),
  version: Version,
  size: ByteSize,
  chunks: z.array(ChunkHash),
  executable: Executable,
  updatedAt: Timestamp,
  deleted: z.boolean(),
});
export type FileMetadata = z.infer<typeof FileMetadata>;

/** `PATCH /api/v1/files/{fileId}`: rename or move as the new version (current plus 1). */
export const MoveRequest = z
  .object({ version: Version, name: FileName.optional(), parentId: Id.nullable().optional() })
  .refine((body) => body.name !== undefined || body.parentId !== undefined, {
    message: "name or parentId is required",
  });
export type MoveRequest = z.infer<typeof MoveRequest>;

/** `DELETE /api/v1/files/{fileId}?version=N`. */
export const DeleteQuery = z.object({ version: z.coerce.number().pipe(Version) });
export type DeleteQuery = z.infer<typeof DeleteQuery>;

export const FileVersion = z.object({
  version: Version,
  size: ByteSize,
  chunks: z.array(ChunkHash),
  executable: Executable,
  action: FileAction,
  name: z.string(),
  parentId: Id.nullable(),
  deviceId: Id.nullable(),
  deviceName: z.string().nullable(),
  createdAt: Timestamp,
});
export type FileVersion = z.infer<typeof FileVersion>;

/** `GET /api/v1/files/{fileId}/versions`, newest first. */
export const VersionList = z.object({ versions: z.array(FileVersion) });
export type VersionList = z.infer<typeof VersionList>;

/** `POST /api/v1/files/{fileId}/restore`. */
export const RestoreRequest = z.object({ version: Version, fromVersion: Version });
export type RestoreRequest = z.infer<typeof RestoreRequest>;

/** `POST /api/v1/chunks/download-urls`. */
export const DownloadUrlsRequest = z.object({ hashes: z.array(ChunkHash).min(1).max(limits.batchMax) });
export type DownloadUrlsRequest = z.infer<typeof DownloadUrlsRequest>;

export const DownloadUrlsResponse = z.object({ urls: z.record(z.string(), z.string()) });
export type DownloadUrlsResponse = z.infer<typeof DownloadUrlsResponse>;

/**
 * Extension: the header that makes a create, commit, move, delete or restore safe to retry.
 * The same key with the same body gives the first answer again; with another body it is refused.
 */
export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";
export const IdempotencyKey = z
  .string()
  .min(8)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/);
