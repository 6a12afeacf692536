import type { ChunkHash } from "@wsync/shared-protocol";
import type { FileStat } from "../fs/types.ts";
import type { RemoteEntry, SyncedEntry } from "../model/types.ts";
import { UNKNOWN_INODE } from "../plan/local-view.ts";

/**
 * The synced record for an item the server holds as `remote`. `local` is the file on disk when its
 * content is exactly the server's; null when it is not (or not known), so a restart re-reads it
 * rather than trusting stats that describe other bytes.
 */
export function syncedRecord(remote: RemoteEntry, local: FileStat | null, chunkSizes: number[]): SyncedEntry {
  return {
    fileId: remote.fileId,
    parentId: remote.parentId,
    name: remote.name,
    isFolder: remote.isFolder,
    version: remote.version,
    chunks: remote.chunks,
    executable: remote.executable ?? false,
    chunkSizes: local ? chunkSizes : [],
    size: remote.size,
    mtimeMs: local?.mtimeMs ?? -1,
    ctimeMs: local?.ctimeMs ?? -1,
    inode: local?.inode ?? UNKNOWN_INODE,
    mode: local?.mode ?? 0,
  };
}

/** The server's state after one of our own writes, recorded before the changes feed echoes it. */
export function remoteRecord(fields: {
  fileId: string;
  parentId: string | null;
  name: string;
  isFolder: boolean;
  version: number;
  chunks: ChunkHash[];
  executable?: boolean;
  size: number;
  updatedAt: string;
  deviceId: string | null;
  deleted?: boolean;
}): RemoteEntry {
  return { ...fields, deleted: fields.deleted ?? false };
}
