import { type ApiClient, type ChunkHash, isApiError, limits } from "@wsync/shared-protocol";
import type { ChunkRef } from "../chunking/chunk-file.ts";
import type { FileSystem } from "../fs/types.ts";
import { StateBatch, type StateStore } from "../state/state-store.ts";
import { RangeChangedError, verifiedRangeBody } from "./range-body.ts";
import { StorageError, withRetry } from "./retry.ts";
import type { TransferProgress, TransferStats } from "./stats.ts";

/** The file no longer holds the bytes the scan hashed: rescan it, then try again. */
export class LocalFileChangedError extends Error {
  readonly code = "local_file_changed" as const;
  constructor(readonly path: string) {
    super(`${path} changed since it was scanned`);
    this.name = "LocalFileChangedError";
  }
}

export interface UploadDeps {
  api: ApiClient;
  fs: FileSystem;
  store: StateStore;
  stats: TransferStats;
  /** Bounds the chunks in flight (shared across files). */
  limit: <T>(fn: () => Promise<T>) => Promise<T>;
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  signal?: AbortSignal;
  onProgress?: (progress: TransferProgress) => void;
  /**
   * Chunks the server told this round it already holds for this user, or that this round PUT: not
   * asked about again. Only for the round: a later round asks afresh.
   */
  present?: Set<ChunkHash>;
}

/**
 * Makes sure the server has every chunk of a file: asks in batches which ones it lacks, then PUTs those
 * straight to storage, several at a time, each read back from the file and checked against its hash
 * first. Chunks whose upload the storage verified are recorded, so after a crash they are not sent again.
 */
export async function uploadMissingChunks(
  deps: UploadDeps,
  path: string,
  chunks: readonly ChunkRef[],
  fileId?: string,
): Promise<void> {
  const unique = new Map<ChunkHash, ChunkRef>();
  for (const chunk of chunks)
    if (!unique.has(chunk.hash) && !deps.store.uploaded.has(chunk.hash) && !deps.present?.has(chunk.hash))
      unique.set(chunk.hash, chunk);
  const pending = [...unique.values()];
  const bytesTotal = pending.reduce((sum, chunk) => sum + chunk.size, 0);
  let bytesDone = 0;
  for (let start = 0; start < pending.length; start += limits.batchMax) {
    const batch = pending.slice(start, start + limits.batchMax);
    const answer = await withRetry(
      () =>
        deps.api.uploadUrls(
          {
            ...(fileId ? { fileId } : {}),
            chunks: batch.map((chunk) => ({ chunkHash: chunk.hash, size: chunk.size })),
          },
          { ...(deps.signal ? { signal: deps.signal } : {}) },
        ),
      { ...(deps.signal ? { signal: deps.signal } : {}) },
    );
    await Promise.all(
      answer.results.map(async (result, index) => {
        const chunk = batch[index] as ChunkRef;
        if (result.chunkHash !== chunk.hash) throw new Error("upload-urls answered out of order");
        const { uploadUrl } = result;
        if (!result.exists && uploadUrl) {
          // Recorded inside the slot: at most `limit` chunks are stored but not yet recorded at a crash.
          await deps.limit(async () => {
            await putChunk(deps, path, chunk, uploadUrl, result.uploadHeaders ?? {}, fileId);
            await deps.store.commit(new StateBatch().addUploaded([chunk.hash]));
          });
        }
        bytesDone += chunk.size;
        deps.onProgress?.({ direction: "upload", path, bytesDone, bytesTotal });
      }),
    );
  }
}

/**
 * Uploads ahead the chunks of many files (new files, whose creates follow): one upload-urls request per
 * `limits.batchMax` chunks across all of them instead of one per file. Best effort: a chunk that fails
 * here (the file changed, storage refused it) is left to that file's own upload, which asks again and
 * fails with the error that matters for that file; after a failure that looks like the network or the
 * server, the rest is left too, so an outage is not waited out once per chunk.
 */
export async function uploadAhead(
  deps: UploadDeps & { present: Set<ChunkHash> },
  files: readonly { path: string; chunks: readonly ChunkRef[] }[],
): Promise<void> {
  const wanted = new Map<ChunkHash, { path: string; chunk: ChunkRef }>();
  const bytesTotal = new Map<string, number>();
  for (const file of files) {
    for (const chunk of file.chunks) {
      if (wanted.has(chunk.hash) || deps.store.uploaded.has(chunk.hash) || deps.present.has(chunk.hash))
        continue;
      wanted.set(chunk.hash, { path: file.path, chunk });
      bytesTotal.set(file.path, (bytesTotal.get(file.path) ?? 0) + chunk.size);
    }
  }
  const bytesDone = new Map<string, number>();
  const pending = [...wanted.values()];
  let gaveUp = false;
  for (let start = 0; start < pending.length && !gaveUp; start += limits.batchMax) {
    const batch = pending.slice(start, start + limits.batchMax);
    const signal = deps.signal ? { signal: deps.signal } : {};
    const answer = await withRetry(
      () =>
        deps.api.uploadUrls(
          { chunks: batch.map(({ chunk }) => ({ chunkHash: chunk.hash, size: chunk.size })) },
          signal,
        ),
      signal,
    ).catch(() => null);
    if (!answer || answer.results.length !== batch.length) return;
    await Promise.all(
      answer.results.map(async (result, index) => {
        const { path, chunk } = batch[index] as { path: string; chunk: ChunkRef };
        if (result.chunkHash !== chunk.hash) return;
        const { uploadUrl } = result;
        if (!result.exists && uploadUrl) {
          const sent = await deps.limit(async () => {
            if (gaveUp || deps.signal?.aborted) return false;
            try {
              await putChunk(deps, path, chunk, uploadUrl, result.uploadHeaders ?? {}, undefined);
            } catch (error) {
              if (!(error instanceof LocalFileChangedError)) gaveUp = true;
              return false;
            }
            // Each one durable as it lands (concurrent commits share an fsync): after a crash, only
            // the chunks in flight are sent again.
            await deps.store.commit(new StateBatch().addUploaded([chunk.hash]));
            return true;
          });
          if (!sent) return;
        }
        deps.present.add(chunk.hash);
        const done = (bytesDone.get(path) ?? 0) + chunk.size;
        bytesDone.set(path, done);
        deps.onProgress?.({
          direction: "upload",
          path,
          bytesDone: done,
          bytesTotal: bytesTotal.get(path) ?? done,
        });
      }),
    );
  }
}

async function putChunk(
  deps: UploadDeps,
  path: string,
  chunk: ChunkRef,
  firstUrl: string,
  firstHeaders: Record<string, string>,
  fileId: string | undefined,
): Promise<void> {
  let url = firstUrl;
  let headers = firstHeaders;
  await withRetry(
    async () => {
      // Streamed from the file per attempt (a retry re-opens the range): a chunk of up to 16 MiB is
      // never held whole, and nothing is kept across backoff waits.
      const handle = await deps.fs.openRead(path).catch(() => {
        throw new LocalFileChangedError(path);
      });
      let bodyError: unknown;
      const { body, close } = verifiedRangeBody(
        handle,
        path,
        chunk.offset,
        chunk.size,
        chunk.hash,
        (error) => {
          bodyError = error;
        },
      );
      let response: Response;
      try {
        response = await deps.fetch(url, {
          method: "PUT",
          // Storage needs the exact length up front (a presigned PUT takes no chunked body).
          headers: { ...headers, "content-length": String(chunk.size) },
          body,
          duplex: "half",
          // A streamed body cannot be sent again to a redirect anyway; without this, fetch tees the
          // body for one (measured: about 45 MB more resident for a 1 GiB stream).
          redirect: "error",
          ...(deps.signal ? { signal: deps.signal } : {}),
        } as RequestInit);
        await response.arrayBuffer();
      } catch (error) {
        // The file changed under the upload: rescan it. A disk error is reported as it is.
        if (bodyError instanceof RangeChangedError) throw new LocalFileChangedError(path);
        if (bodyError) throw bodyError;
        throw new StorageError(`PUT chunk failed: ${(error as Error).message}`, 0);
      } finally {
        await close();
      }
      if (response.status === 403) {
        // Expired (about 15 minutes): ask for a fresh URL and let the retry use it.
        const fresh = await deps.api.uploadUrl({
          ...(fileId ? { fileId } : {}),
          chunkHash: chunk.hash,
          size: chunk.size,
        });
        if (fresh.exists || !fresh.uploadUrl) return;
        url = fresh.uploadUrl;
        headers = fresh.uploadHeaders ?? {};
        throw new StorageError("upload URL refused; renewed", 503);
      }
      if (!response.ok) throw new StorageError(`PUT chunk answered ${response.status}`, response.status);
      deps.stats.bytesUploaded += chunk.size;
      deps.stats.chunksUploaded++;
    },
    { ...(deps.signal ? { signal: deps.signal } : {}) },
  );
}

/** When a commit says chunks are missing, forget that they were uploaded so they are sent again. */
export async function forgetUploaded(
  store: StateStore,
  error: unknown,
  present?: Set<ChunkHash>,
): Promise<boolean> {
  if (!isApiError(error, "chunks_missing")) return false;
  const missing = (error.details?.missing ?? []) as ChunkHash[];
  if (missing.length > 0) for (const hash of missing) present?.delete(hash);
  else present?.clear();
  await store.commit(new StateBatch().removeUploaded(missing.length > 0 ? missing : [...store.uploaded]));
  return true;
}
