import type { ChunkHash } from "@wsync/shared-protocol";

/**
 * What this device and the server last agreed on for one file or folder: the "base" of the three-way
 * comparison. Its local half (mtime, inode, ...) is the file as it was on disk when it was synced, so a
 * restart can tell unchanged files without reading them.
 */
export interface SyncedEntry {
  fileId: string;
  parentId: string | null;
  name: string;
  isFolder: boolean;
  version: number;
  chunks: ChunkHash[];
  /** Byte length of each chunk, so the bytes of a chunk can be found again in the local file. */
  chunkSizes: number[];
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  inode: number;
  mode: number;
  /** The server's executable bit of `version`; absent (state from before the bit synced): false. */
  executable?: boolean;
}

/** The server's newest state of a file or folder, as the changes feed described it. */
export interface RemoteEntry {
  fileId: string;
  parentId: string | null;
  name: string;
  isFolder: boolean;
  version: number;
  size: number;
  chunks: ChunkHash[];
  /** The version's executable bit; absent: false. */
  executable?: boolean;
  deleted: boolean;
  updatedAt: string;
  deviceId: string | null;
}

export function sameChunks(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
