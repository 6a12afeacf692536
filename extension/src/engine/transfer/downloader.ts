import { randomBytes } from "node:crypto";
import { type ApiClient, type ChunkHash, limits } from "@wsync/shared-protocol";
import { type FileSystem, joinPath } from "../fs/types.ts";
import { TEMP_PREFIX } from "../scan/ignore-rules.ts";
import { settleAfter } from "./garbage-pacer.ts";
import {
  discardHeld,
  type HeldChunk,
  HOLD_IN_MEMORY_BYTES,
  holdChunk,
  networkPieces,
  SourceError,
  sourcePieces,
  writeHeld,
} from "./held-chunk.ts";
import { rangePieces } from "./range-body.ts";
import { StorageError, withRetry } from "./retry.ts";
import type { TransferProgress, TransferStats } from "./stats.ts";

/**
 * Where the bytes of a chunk may already be on this disk (another file, the chunk cache), given a
 * piece at a time. The bytes it gives are checked against the hash before use.
 */
export interface ChunkSource {
  pieces(): AsyncIterable<Uint8Array>;
  /** Told when its bytes did not match the hash (a cache drops the entry). */
  mismatched?(): Promise<void>;
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

  const fetchChunk = async (hash: ChunkHash): Promise<HeldChunk> => {
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
          try {
            response = await deps.fetch(url, {
              method: "GET",
              ...(deps.signal ? { signal: deps.signal } : {}),
            });
          } catch (error) {
            throw new StorageError(`GET chunk failed: ${(error as Error).message}`, 0);
          }
          if (!response.ok) await response.body?.cancel().catch(() => {});
          if (response.status === 403) {
            refreshed = true; // expired URL
            throw new StorageError("download URL refused; renewing", 503);
          }
          if (!response.ok) throw new StorageError(`GET chunk answered ${response.status}`, response.status);
          const held = await holdChunk(deps.fs, folder, networkPieces(response), hash);
          // A wrong body is retried like a network fault, then reported.
          if (!held) throw new StorageError(`chunk ${hash} did not match its hash`, 502);
          deps.stats.bytesDownloaded += held.size;
          deps.stats.chunksDownloaded++;
          return held;
        }),
      )
      .catch((error) => {
        throw error instanceof StorageError && error.status === 502 ? new ChunkCorruptError(hash) : error;
      });
  };

  const fromDisk = async (hash: ChunkHash): Promise<HeldChunk | null> => {
    for (const source of locator.find(hash)) {
      const held = await holdChunk(deps.fs, folder, sourcePieces(source), hash).catch((error) => {
        if (error instanceof SourceError) return null;
        throw error; // writing the spill file failed (a full disk): that is the download's error
      });
      if (held) {
        deps.stats.chunksReused++;
        return held;
      }
      await source.mismatched?.().catch(() => {});
    }
    return null;
  };

  const obtain = async (hash: ChunkHash): Promise<HeldChunk> => (await fromDisk(hash)) ?? fetchChunk(hash);

  const path = temporaryPath(folder);
  const handle = await deps.fs.createExclusive(path, mode);
  const chunkSizes: number[] = [];
  let size = 0;
  // A window of chunks is obtained ahead of the writer, each verified before it is written; memory
  // stays at `window` small chunks per file (bigger ones wait in spill files, see holdChunk).
  const window: Array<Promise<HeldChunk>> = [];
  // Made by the first spilled chunk: most files are small and spill nothing.
  let spillCopy: Uint8Array | undefined;
  const copyBuffer = () => {
    spillCopy ??= new Uint8Array(HOLD_IN_MEMORY_BYTES);
    return spillCopy;
  };
  try {
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
      const held = await (window.shift() as Promise<HeldChunk>);
      fill();
      await writeHeld(deps.fs, handle, held, copyBuffer);
      chunkSizes.push(held.size);
      size += held.size;
      deps.onProgress?.({ direction: "download", path: displayPath, bytesDone: size, bytesTotal: -1 });
    }
    await handle.sync();
    await handle.close();
    settleAfter(size);
  } catch (error) {
    // Chunks still on their way leave no spill file behind.
    for (const pending of window) void pending.then((held) => discardHeld(deps.fs, held)).catch(() => {});
    await handle.close().catch(() => {});
    await deps.fs.unlink(path).catch(() => {});
    throw error;
  }
  return { path, chunkSizes, size };
}

/** A chunk source on this disk: from `size` bytes at `offset` in a workspace file. */
export function rangeSource(fs: FileSystem, path: string, offset: number, size: number): ChunkSource {
  return { pieces: () => rangePieces(fs, path, offset, size) };
}

/** The bytes at `offset` in a workspace file, whole (for chunks kept in the chunk cache). */
export async function readRange(
  fs: FileSystem,
  path: string,
  offset: number,
  size: number,
): Promise<Uint8Array> {
  const pieces: Uint8Array[] = [];
  for await (const piece of rangePieces(fs, path, offset, size)) pieces.push(piece);
  return pieces.length === 1 ? (pieces[0] as Uint8Array) : Buffer.concat(pieces);
}
