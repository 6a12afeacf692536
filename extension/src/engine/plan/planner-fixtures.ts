import { createHash } from "node:crypto";
import { type ChunkHash, chunkHashFromDigest } from "@wsync/shared-protocol";
import { baseName, parentPath } from "../fs/types.ts";
import type { RemoteEntry, SyncedEntry } from "../model/types.ts";
import type { LocalEntry } from "../scan/scanner.ts";
import type { PlanInput } from "./planner.ts";

export const hashOf = (content: string): ChunkHash =>
  chunkHashFromDigest(createHash("sha256").update(content).digest());

/** A test world: items by path with content (null: a folder), as each side sees them. */
export type Tree = Record<string, string | null>;

let inodes = 1000;

export function localEntry(path: string, content: string | null, inode = inodes++): LocalEntry {
  const size = content === null ? 0 : Buffer.byteLength(content);
  return {
    path,
    kind: content === null ? "folder" : "file",
    size,
    mtimeMs: 1,
    ctimeMs: 1,
    inode,
    mode: content === null ? 0o755 : 0o644,
    chunks: content === null || content === "" ? [] : [{ hash: hashOf(content), offset: 0, size }],
  };
}

/**
 * Builds a plan input where `synced` describes the agreed state (ids are the paths prefixed with
 * `id:`), `remote` the server now (defaults to synced) and `local` the disk now (defaults to synced,
 * with the same inodes).
 */
export function world(spec: {
  synced?: Tree;
  remote?: Record<string, { path: string; content: string | null; version: number } | { deleted: true }>;
  local?: Record<string, string | null | { content: string | null; inode: number }>;
  ignored?: (path: string) => boolean;
}): PlanInput {
  const syncedTree = spec.synced ?? {};
  const idOf = (path: string) => `id:${path}`;
  const inodeOf = (path: string) => 100 + Object.keys(syncedTree).indexOf(path);
  const synced = new Map<string, SyncedEntry>();
  const remote = new Map<string, RemoteEntry>();
  for (const [path, content] of Object.entries(syncedTree)) {
    const folder = parentPath(path);
    const entry: SyncedEntry = {
      fileId: idOf(path),
      parentId: folder === "" ? null : idOf(folder),
      name: baseName(path),
      isFolder: content === null,
      version: 1,
      chunks: content ? [hashOf(content)] : [],
      chunkSizes: content ? [Buffer.byteLength(content)] : [],
      size: content ? Buffer.byteLength(content) : 0,
      mtimeMs: 1,
      ctimeMs: 1,
      inode: inodeOf(path),
      mode: content === null ? 0o755 : 0o644,
    };
    synced.set(entry.fileId, entry);
    remote.set(entry.fileId, toRemote(entry));
  }
  for (const [fileId, change] of Object.entries(spec.remote ?? {})) {
    const known = remote.get(fileId);
    if ("deleted" in change) {
      if (known) remote.set(fileId, { ...known, deleted: true, version: known.version + 1 });
      continue;
    }
    const folder = parentPath(change.path);
    remote.set(fileId, {
      fileId,
      parentId:
        folder === ""
          ? null
          : (([...remote.values()].find((r) => pathOfRemote(remote, r) === folder)?.fileId ??
              idOf(folder)) as string),
      name: baseName(change.path),
      isFolder: change.content === null,
      version: change.version,
      size: change.content ? Buffer.byteLength(change.content) : 0,
      chunks: change.content ? [hashOf(change.content)] : [],
      deleted: false,
      updatedAt: "2026-03-15T09:22:10Z",
      deviceId: "other",
    });
  }
  const local = new Map<string, LocalEntry>();
  const localSpec = spec.local ?? Object.fromEntries(Object.entries(syncedTree));
  for (const [path, value] of Object.entries(localSpec)) {
    const content = value !== null && typeof value === "object" ? value.content : value;
    const inode =
      value !== null && typeof value === "object"
        ? value.inode
        : syncedTree[path] !== undefined
          ? inodeOf(path)
          : undefined;
    local.set(path, localEntry(path, content, inode));
  }
  return {
    local,
    synced,
    remote,
    isIgnored: (path) => spec.ignored?.(path) ?? false,
    deviceName: "laptop",
    now: new Date("2026-03-15T09:22:10Z"),
  };
}

function toRemote(entry: SyncedEntry): RemoteEntry {
  return {
    fileId: entry.fileId,
    parentId: entry.parentId,
    name: entry.name,
    isFolder: entry.isFolder,
    version: entry.version,
    size: entry.size,
    chunks: entry.chunks,
    deleted: false,
    updatedAt: "2026-03-15T09:22:10Z",
    deviceId: "this",
  };
}

function pathOfRemote(remote: Map<string, RemoteEntry>, entry: RemoteEntry): string {
  const parent = entry.parentId ? remote.get(entry.parentId) : undefined;
  return parent ? `${pathOfRemote(remote, parent)}/${entry.name}` : entry.name;
}
