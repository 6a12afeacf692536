import { z } from "zod";

/** A chunk hash is `sha256:` followed by 64 lowercase hex digits. */
export const CHUNK_HASH_PREFIX = "sha256:";
const chunkHashPattern = /^sha256:[0-9a-f]{64}$/;

export const ChunkHash = z
  .string()
  .regex(chunkHashPattern, "must be sha256: followed by 64 lowercase hex digits")
  .brand<"ChunkHash">();
export type ChunkHash = z.infer<typeof ChunkHash>;

export function isChunkHash(value: unknown): value is ChunkHash {
  return typeof value === "string" && chunkHashPattern.test(value);
}

/** Formats a raw 32-byte SHA-256 digest as a chunk hash. */
export function chunkHashFromDigest(digest: Uint8Array): ChunkHash {
  if (digest.length !== 32) throw new RangeError(`a SHA-256 digest has 32 bytes, got ${digest.length}`);
  let hex = "";
  for (const byte of digest) hex += byte.toString(16).padStart(2, "0");
  return `${CHUNK_HASH_PREFIX}${hex}` as ChunkHash;
}

/** The 32 raw digest bytes of a chunk hash (S3's x-amz-checksum-sha256 is their base64). */
export function digestFromChunkHash(hash: ChunkHash): Uint8Array {
  const hex = hash.slice(CHUNK_HASH_PREFIX.length);
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** The base64 form S3 uses for `x-amz-checksum-sha256`. */
export function checksumSha256Base64(hash: ChunkHash): string {
  let binary = "";
  for (const byte of digestFromChunkHash(hash)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
