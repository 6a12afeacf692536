import { createHash, randomBytes } from "node:crypto";
import { type ApiClient, type ChunkHash, chunkHashFromDigest, limits } from "@wsync/shared-protocol";
import { type FileSystem, joinPath } from "../fs/types.ts";
import { TEMP_PREFIX } from "../scan/ignore-rules.ts";
import { StorageError, withRetry } from "./retry.ts";
import type { TransferProgress, TransferStats } from "./stats.ts";

/**
 * Where the bytes of a chunk may already be on this disk (another file, the chunk cache). The bytes it
 * gives are checked against the hash before use.
 */
export interface ChunkSource {
  read(): Promise<Uint8Array | null>;
}

export interface ChunkLocator {
  find(hash: ChunkHash): readonly ChunkSource[];
}

export interface DownloadDeps {
  api: ApiClient;
  fs: FileSystem;
  stats: TransferStats;
  /** Bounds the chunks in flight (shared across files). */
  limit: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Chunks fetched ahead of the writer for one file. */
  window: number;
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  signal?: AbortSignal;
  onProgress?: (progress: TransferProgress) => void;
}

/** A downloaded chunk's bytes did not hash to its name, attempt after attempt. */
export class ChunkCorruptError extends Error {
  readonly code = "chunk_corrupt" as const;
  constructor(readonly hash: string) {
    super(`chunk ${hash} did not match its hash`);
    this.name = "ChunkCorruptError";
  }
}

const sha = (bytes: Uint8Array) => chunkHashFromDigest(createHash("sha256").update(bytes).digest());

export function temporaryPath(folder: string): string {
  return joinPath(folder, `${TEMP_PREFIX}${randomBytes(8).toString("hex")}`);
}

/**
 * Writes a file's content to a new temporary file in `folder` (so the final rename stays on one disk)
 * and fsyncs it. Chunks found on this disk are copied after their hash is checked; only the others are
 * downloaded, several ahead of the writer, and each is checked against its hash. The caller renames the
 * result into place or deletes it.
 */
export async function downloadToTemporary(
  deps: DownloadDeps,
  folder: string,
  displayPath: string,
  chunks: readonly ChunkHash[],
  locator: ChunkLocator,
  mode: number,
): Promise<{ path: string; chunkSizes: number[]; size: number }> {
  const remoteNeeded = [...new Set(chunks.filter((hash) => locator.find(hash).length === 0))];
  const urls = new Map<ChunkHash, string>();
  for (let start = 0; start < remoteNeeded.length; start += limits.batchMax) {
    const batch = remoteNeeded.slice(start, start + limits.batchMax);
    const answer = await withRetry(() => deps.api.downloadUrls(batch));
    for (const [hash, url] of Object.entries(answer.urls)) urls.set(hash as ChunkHash, url);
  }

  const fetchChunk = async (hash: ChunkHash): Promise<Uint8Array> => {
    let refreshed = false;
    return deps
      .limit(() =>
        withRetry(async () => {
          let url = urls.get(hash);
          if (!url || refreshed) {
            url = (await withRetry(() => deps.api.downloadUrls([hash]))).urls[hash];
            if (!url) throw new Error(`no download URL for ${hash}`);
            urls.set(hash, url);
            refreshed = false;
          }
          let response: Response;
          let bytes: Uint8Array;
          try {
            response = await deps.fetch(url, {
              method: "GET",
              ...(deps.signal ? { signal: deps.signal } : {}),
            });
            bytes = new Uint8Array(await response.arrayBuffer());
          } catch (error) {
            throw new StorageError(`GET chunk failed: ${(error as Error).message}`, 0);
          }
          if (response.status === 403) {
            refreshed = true; // expired URL
            throw new StorageError("download URL refused; renewing", 503);
          }
          if (!response.ok) throw new StorageError(`GET chunk answered ${response.status}`, response.status);
          // A wrong body is retried like a network fault, then reported.
          if (sha(bytes) !== hash) throw new StorageError(`chunk ${hash} did not match its hash`, 502);
          deps.stats.bytesDownloaded += bytes.length;
          deps.stats.chunksDownloaded++;
          return bytes;
        }),
      )
      .catch((error) => {
        throw error instanceof StorageError && error.status === 502 ? new ChunkCorruptError(hash) : error;
      });
  };

  const fromDisk = async (hash: ChunkHash): Promise<Uint8Array | null> => {
    for (const source of locator.find(hash)) {
      const bytes = await source.read().catch(() => null);
      if (bytes && sha(bytes) === hash) {
        deps.stats.chunksReused++;
        return bytes;
      }
    }
    return null;
  };

  const obtain = async (hash: ChunkHash): Promise<Uint8Array> => (await fromDisk(hash)) ?? fetchChunk(hash);

  const path = temporaryPath(folder);
  const handle = await deps.fs.createExclusive(path, mode);
  const chunkSizes: number[] = [];
  let size = 0;
  try {
    // A window of chunks is fetched ahead of the writer; memory stays at `concurrency` chunks.
    const window: Array<Promise<Uint8Array>> = [];
    let next = 0;
    const fill = () => {
      while (window.length < deps.window && next < chunks.length) {
        const promise = obtain(chunks[next++] as ChunkHash);
        promise.catch(() => {}); // observed when its turn comes
        window.push(promise);
      }
    };
    fill();
    while (window.length > 0) {
      const bytes = await (window.shift() as Promise<Uint8Array>);
      fill();
      await handle.write(bytes);
      chunkSizes.push(bytes.length);
      size += bytes.length;
      deps.onProgress?.({ direction: "download", path: displayPath, bytesDone: size, bytesTotal: -1 });
    }
    await handle.sync();
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => {});
    await deps.fs.unlink(path).catch(() => {});
    throw error;
  }
  return { path, chunkSizes, size };
}

/** The bytes at `offset` in a workspace file. */
export async function readRange(
  fs: FileSystem,
  path: string,
  offset: number,
  size: number,
): Promise<Uint8Array> {
  const handle = await fs.openRead(path);
  try {
    const bytes = new Uint8Array(size);
    let read = 0;
    while (read < size) {
      const n = await handle.read(bytes.subarray(read), offset + read);
      if (n === 0) break;
      read += n;
    }
    return read === size ? bytes : bytes.subarray(0, read);
  } finally {
    await handle.close();
  }
}
