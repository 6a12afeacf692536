import { createHash, randomUUID } from "node:crypto";
import {
  type ApiClient,
  type ChunkHash,
  chunkHashFromDigest,
  type FetchLike,
  type FileVersion,
  limits,
} from "@wsync/shared-protocol";
import { syncedPaths } from "./engine-support.ts";
import { buildRemoteView } from "./plan/remote-view.ts";
import type { StateStore } from "./state/state-store.ts";
import { withRetry } from "./transfer/retry.ts";

export interface DeletedFile {
  fileId: string;
  /** Where it was when it was deleted, as far as the server's tree still tells. */
  path: string;
  version: number;
  deletedAt: string;
}

/**
 * One key per restore the user asks for, made outside the retry loop: a retry after a lost answer then
 * replays the first answer instead of failing with version_conflict against the version it made.
 */
function restoreKey(): string {
  return `w1-restore-${randomUUID()}`;
}

/** Version history and restore, for the extension's File History view and diff editors. */
export interface History {
  /** The server id of the item at this workspace path, if it is synced. */
  fileIdOf(path: string): string | undefined;
  /** Every version of the file at `path` (or with this id), newest first. */
  versions(pathOrFileId: string): Promise<FileVersion[]>;
  /** The bytes of one version (each chunk checked against its hash); for files up to 256 MiB. */
  readVersion(pathOrFileId: string, version: number): Promise<Uint8Array>;
  /** Makes `fromVersion`'s content the newest version, then syncs it here. */
  restore(pathOrFileId: string, fromVersion: number): Promise<void>;
  /** Files deleted on the server that this device knew. */
  deleted(): DeletedFile[];
  /** Brings a deleted file back with its last content (or `fromVersion`'s). */
  restoreDeleted(fileId: string, fromVersion?: number): Promise<void>;
}

const MAX_READ_BYTES = 256 * 1024 * 1024;

export function createHistory(deps: {
  api: ApiClient;
  fetch: FetchLike;
  store: () => StateStore | undefined;
  isIgnored: (path: string, isFolder: boolean) => boolean;
  afterRestore: () => Promise<void>;
}): History {
  const requireStore = () => {
    const store = deps.store();
    if (!store) throw new Error("the sync engine is not started");
    return store;
  };
  const fileIdOf = (path: string): string | undefined => {
    const store = requireStore();
    for (const [fileId, syncedPath] of syncedPaths(store.synced)) if (syncedPath === path) return fileId;
    return buildRemoteView(store.remote, deps.isIgnored).atPath(path)?.fileId;
  };
  const resolve = (pathOrFileId: string): string => {
    const store = requireStore();
    if (store.remote.has(pathOrFileId)) return pathOrFileId;
    const fileId = fileIdOf(pathOrFileId);
    if (!fileId) throw new Error(`${pathOrFileId} is not a synced file`);
    return fileId;
  };
  const currentVersion = async (fileId: string) => (await withRetry(() => deps.api.getFile(fileId))).version;

  const history: History = {
    fileIdOf,
    async versions(pathOrFileId) {
      const fileId = resolve(pathOrFileId);
      return (await withRetry(() => deps.api.listVersions(fileId))).versions;
    },
    async readVersion(pathOrFileId, version) {
      const versions = await history.versions(pathOrFileId);
      const wanted = versions.find((v) => v.version === version);
      if (!wanted) throw new Error(`no version ${version}`);
      if (wanted.size > MAX_READ_BYTES) throw new Error(`version ${version} is too large to read in memory`);
      return readChunks(deps.api, deps.fetch, wanted.chunks);
    },
    async restore(pathOrFileId, fromVersion) {
      const fileId = resolve(pathOrFileId);
      const version = (await currentVersion(fileId)) + 1;
      const idempotencyKey = restoreKey();
      await withRetry(() => deps.api.restore(fileId, { version, fromVersion }, { idempotencyKey }));
      await deps.afterRestore();
    },
    deleted() {
      const store = requireStore();
      const byId = store.remote;
      const pathOf = (fileId: string, depth = 0): string => {
        const entry = byId.get(fileId);
        if (!entry || depth > 100) return "";
        return entry.parentId
          ? `${pathOf(entry.parentId, depth + 1)}/${entry.name}`.replace(/^\//, "")
          : entry.name;
      };
      return [...byId.values()]
        .filter((entry) => entry.deleted && !entry.isFolder)
        .map((entry) => ({
          fileId: entry.fileId,
          path: pathOf(entry.fileId),
          version: entry.version,
          deletedAt: entry.updatedAt,
        }))
        .sort((a, b) => (a.deletedAt < b.deletedAt ? 1 : -1));
    },
    async restoreDeleted(fileId, fromVersion) {
      const versions = (await withRetry(() => deps.api.listVersions(fileId))).versions;
      const source = fromVersion ?? versions.find((v) => v.action !== "deleted")?.version;
      if (source === undefined) throw new Error("no version to restore");
      const version = (versions[0]?.version ?? 0) + 1;
      const idempotencyKey = restoreKey();
      await withRetry(() => deps.api.restore(fileId, { version, fromVersion: source }, { idempotencyKey }));
      await deps.afterRestore();
    },
  };
  return history;
}

async function readChunks(
  api: ApiClient,
  fetchImpl: FetchLike,
  chunks: readonly ChunkHash[],
): Promise<Uint8Array> {
  const unique = [...new Set(chunks)];
  const urls = new Map<string, string>();
  for (let start = 0; start < unique.length; start += limits.batchMax) {
    const answer = await withRetry(() => api.downloadUrls(unique.slice(start, start + limits.batchMax)));
    for (const [hash, url] of Object.entries(answer.urls)) urls.set(hash, url);
  }
  const parts: Uint8Array[] = [];
  for (const hash of chunks) {
    const bytes = await withRetry(async () => {
      const response = await fetchImpl(urls.get(hash) as string, { method: "GET" });
      const body = new Uint8Array(await response.arrayBuffer());
      if (!response.ok) throw new Error(`GET chunk answered ${response.status}`);
      return body;
    });
    if (chunkHashFromDigest(createHash("sha256").update(bytes).digest()) !== hash) {
      throw new Error(`chunk ${hash} did not match its hash`);
    }
    parts.push(bytes);
  }
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const result = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}
