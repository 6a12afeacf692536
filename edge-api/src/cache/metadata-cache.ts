import type { FileMetadata } from "@wsync/shared-protocol";
import type { LogSink } from "../http/context.ts";
import type { CacheStore } from "./cache-store.ts";

/**
 * What the API caches, over a CacheStore that may fail or hang: per-user chunk ownership (what
 * upload-url's `exists` answers) and file metadata. A cache, never the authority:
 * - ownership: only positives are cached (a chunk this user proved to hold). A commit still checks
 *   PostgreSQL, and forgets the cached entries of any chunk it finds missing, so a stale entry costs
 *   one round trip (upload-url says exists, the commit says chunks_missing, the retry uploads);
 * - file metadata: stored with its version, and served only when PostgreSQL says that version is
 *   still the file's current one (a primary-key probe instead of the chunk-list aggregation), so a
 *   lost invalidation can never serve an old version.
 * Every operation is bounded by `timeoutMs`; a failure or timeout is logged as a warning (at most one
 * line per `warnEveryMs`) and reads as a miss, so the API answers from PostgreSQL and never fails
 * because of the cache. After a failure, reads skip the store for `backoffMs` so a slow Redis does
 * not add its timeout to every request; invalidations are always attempted.
 */
export interface MetadataCache {
  readonly kind: CacheStore["kind"] | "off";
  /** Of `hashes`, those cached as owned by this user (empty when unknown or unavailable). */
  ownedChunks(ownerId: string, hashes: readonly string[]): Promise<Set<string>>;
  rememberOwnedChunks(ownerId: string, hashes: readonly string[]): Promise<void>;
  forgetOwnedChunks(ownerId: string, hashes: readonly string[]): Promise<void>;
  /** The cached metadata of a file, if any (the caller checks its version against PostgreSQL). */
  fileMetadata(ownerId: string, fileId: string): Promise<FileMetadata | null>;
  rememberFileMetadata(ownerId: string, metadata: FileMetadata): Promise<void>;
  /** After any change of the user's files (commit, create, move, delete, restore). */
  forgetFiles(ownerId: string): Promise<void>;
  /** Everything cached for the user (device revocation). */
  forgetOwner(ownerId: string): Promise<void>;
  close(): Promise<void>;
}

export interface MetadataCacheOptions {
  log: LogSink;
  ownershipTtlSeconds: number;
  fileMetadataTtlSeconds: number;
  timeoutMs: number;
  backoffMs?: number;
  warnEveryMs?: number;
  now?: () => number;
}

// `{owner}` is a Redis Cluster hash tag: all of one user's keys live in one slot, like their rows.
export const chunksKey = (ownerId: string) => `wsync:{${ownerId}}:chunks`;
export const filesKey = (ownerId: string) => `wsync:{${ownerId}}:files`;

class CacheTimeout extends Error {
  override name = "CacheTimeout";
}

export function createMetadataCache(store: CacheStore, options: MetadataCacheOptions): MetadataCache {
  const now = options.now ?? Date.now;
  const backoffMs = options.backoffMs ?? 1_000;
  const warnEveryMs = options.warnEveryMs ?? 10_000;
  let skipReadsUntil = 0;
  let lastWarning = Number.NEGATIVE_INFINITY;
  let failuresSinceWarning = 0;
  let degraded = false;

  const bounded = <T>(work: Promise<T>): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new CacheTimeout(`no answer in ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
    });
    work.catch(() => {}); // a late failure after the timeout is already accounted for
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  };

  const failed = (op: string, error: unknown) => {
    skipReadsUntil = now() + backoffMs;
    degraded = true;
    failuresSinceWarning++;
    if (now() - lastWarning < warnEveryMs) return;
    const e = error instanceof Error ? error : new Error(String(error));
    options.log({
      level: "warn",
      msg: "cache unavailable: answering from PostgreSQL",
      cache: store.kind,
      op,
      failures: failuresSinceWarning,
      error: { name: e.name, message: e.message },
    });
    lastWarning = now();
    failuresSinceWarning = 0;
  };
  const succeeded = () => {
    if (!degraded) return;
    degraded = false;
    options.log({ level: "info", msg: "cache available again", cache: store.kind });
  };

  async function read<T>(op: string, work: () => Promise<T>, miss: T): Promise<T> {
    if (now() < skipReadsUntil) return miss;
    try {
      const value = await bounded(work());
      succeeded();
      return value;
    } catch (error) {
      failed(op, error);
      return miss;
    }
  }
  async function write(op: string, work: () => Promise<void>): Promise<void> {
    try {
      await bounded(work());
      succeeded();
    } catch (error) {
      failed(op, error);
    }
  }

  return {
    kind: store.kind,
    async ownedChunks(ownerId, hashes) {
      if (hashes.length === 0) return new Set();
      const answers = await read("ownedChunks", () => store.areMembers(chunksKey(ownerId), hashes), []);
      return new Set(hashes.filter((_, i) => answers[i] === true));
    },
    async rememberOwnedChunks(ownerId, hashes) {
      if (hashes.length === 0 || now() < skipReadsUntil) return;
      await write("rememberOwnedChunks", () =>
        store.addMembers(chunksKey(ownerId), hashes, options.ownershipTtlSeconds),
      );
    },
    async forgetOwnedChunks(ownerId, hashes) {
      if (hashes.length === 0) return;
      await write("forgetOwnedChunks", () => store.removeMembers(chunksKey(ownerId), hashes));
    },
    async fileMetadata(ownerId, fileId) {
      const text = await read("fileMetadata", () => store.getField(filesKey(ownerId), fileId), null);
      if (text === null) return null;
      try {
        return JSON.parse(text) as FileMetadata;
      } catch {
        return null;
      }
    },
    async rememberFileMetadata(ownerId, metadata) {
      if (now() < skipReadsUntil) return;
      await write("rememberFileMetadata", () =>
        store.setField(
          filesKey(ownerId),
          metadata.fileId,
          JSON.stringify(metadata),
          options.fileMetadataTtlSeconds,
        ),
      );
    },
    async forgetFiles(ownerId) {
      await write("forgetFiles", () => store.delete([filesKey(ownerId)]));
    },
    async forgetOwner(ownerId) {
      await write("forgetOwner", () => store.delete([chunksKey(ownerId), filesKey(ownerId)]));
    },
    close: () => store.close(),
  };
}

/** No cache at all (`cache: "off"`): every answer from PostgreSQL. For benchmarks and comparison. */
export const noCache: MetadataCache = {
  kind: "off",
  ownedChunks: async () => new Set(),
  rememberOwnedChunks: async () => {},
  forgetOwnedChunks: async () => {},
  fileMetadata: async () => null,
  rememberFileMetadata: async () => {},
  forgetFiles: async () => {},
  forgetOwner: async () => {},
  close: async () => {},
};
