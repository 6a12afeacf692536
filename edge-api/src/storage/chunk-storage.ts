import type { ChunkHash } from "@wsync/shared-protocol";

/** A presigned PUT and the headers the client must send with it (the signed checksum). */
export interface PresignedUpload {
  url: string;
  headers: Record<string, string>;
}

/** What the store holds under a chunk's key, as it reports it. */
export interface StoredChunk {
  size: number;
  /** Base64 SHA-256 the store computed on upload, when it keeps one. */
  checksumSha256: string | undefined;
  /** The tag of the upload that wrote the object. */
  uploadTag: string | undefined;
}

/**
 * The object store as the API sees it: it signs URLs and asks about objects, never moves bytes.
 * Objects are content-addressed and global: one object per chunk hash, whoever uploaded it.
 */
export interface ChunkStorage {
  /**
   * A PUT that the store accepts only with exactly `size` bytes whose SHA-256 is `hash`, and that
   * stores `uploadTag` in the object's metadata (so a later HEAD shows whose upload it was).
   */
  presignUpload(
    hash: ChunkHash,
    size: number,
    uploadTag: string,
    expiresInSeconds: number,
  ): Promise<PresignedUpload>;
  presignDownload(hash: ChunkHash, expiresInSeconds: number): Promise<string>;
  /** The stored object, or null when there is none. */
  headChunk(hash: ChunkHash): Promise<StoredChunk | null>;
  deleteChunk(hash: ChunkHash): Promise<void>;
  /** Creates the bucket when missing (startup only). */
  ensureBucket(): Promise<void>;
  /** Whether the store answers at all (for /readyz). */
  ping(): Promise<boolean>;
}
