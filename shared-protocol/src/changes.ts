import { z } from "zod";
import { ChunkHash } from "./chunk-hash.ts";
import { ByteSize, FileAction, Id, SyncToken, Timestamp, Version } from "./common.ts";
import { Executable } from "./files.ts";
import { limits } from "./limits.ts";

/** `GET /api/v1/files/changes?since=<syncToken>&limit=<n>`. */
export const ChangesQuery = z.object({
  since: SyncToken.optional(),
  limit: z.coerce.number().int().min(1).max(limits.changesLimitMax).default(limits.changesLimitDefault),
});
export type ChangesQuery = z.infer<typeof ChangesQuery>;

export const Change = z.object({
  fileId: Id,
  action: FileAction,
  version: Version,
  parentId: Id.nullable(),
  name: z.string(),
  isFolder: z.boolean(),
  size: ByteSize,
  /** Omitted for folders and deleted files. */
  chunks: z.array(ChunkHash).optional(),
  /** Extension: present with `chunks`. */
  executable: Executable,
  updatedAt: Timestamp,
  /** Extension: the device that made the change, so a device can skip its own echoes. */
  deviceId: Id.nullable().optional(),
});
export type Change = z.infer<typeof Change>;

export const ChangesPage = z.object({
  changes: z.array(Change),
  syncToken: SyncToken,
  hasMore: z.boolean(),
});
export type ChangesPage = z.infer<typeof ChangesPage>;
