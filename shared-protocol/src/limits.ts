/**
 * The documented limits of the contract. The server refuses anything beyond them with
 * `validation_failed` or `payload_too_large`; clients size their batches by them.
 */
export const limits = {
  /** A name is one path segment of at most this many bytes of UTF-8. */
  nameMaxBytes: 255,
  passwordMinLength: 8,
  passwordMaxLength: 1024,
  emailMaxLength: 254,
  deviceNameMaxLength: 100,
  /** Content-defined chunks are at most 16 MiB; no chunk may be larger. */
  chunkMaxBytes: 16 * 1024 * 1024,
  /** Chunks in one version: 100,000 chunks of 4 MiB on average is about 400 GiB. */
  chunksPerVersionMax: 100_000,
  /** Items in one batch upload-url request, and hashes in one download-urls request. */
  batchMax: 1000,
  /** Items in one batch create request (extension `POST /files/batch`); more is `payload_too_large`. */
  createBatchMax: 500,
  /** Chunk hashes over all items of one batch create; more is `payload_too_large`. */
  createBatchChunksMax: 100_000,
  /** Largest request body the API reads (a commit of chunksPerVersionMax hashes fits). */
  bodyMaxBytes: 8 * 1024 * 1024,
  changesLimitDefault: 500,
  changesLimitMax: 1000,
  /** Folder nesting deeper than this is refused: paths stay usable on every OS. */
  folderDepthMax: 64,
  pollTimeoutDefaultSeconds: 30,
  pollTimeoutMaxSeconds: 60,
  /** Presigned URLs live about 15 minutes. */
  presignedUrlTtlSeconds: 15 * 60,
} as const;
