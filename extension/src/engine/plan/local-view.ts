import { baseName, joinPath, parentPath } from "../fs/types.ts";
import { type SyncedEntry, sameChunks } from "../model/types.ts";
import type { LocalEntry } from "../scan/scanner.ts";

/** A local entry with the server file it stands for (null: new here). */
export interface LocalItem {
  entry: LocalEntry;
  fileId: string | null;
  /** The server id of the folder it is in (null: the root), or the path of a folder that is new here. */
  parent: { fileId: string | null } | { newPath: string };
  name: string;
}

export interface LocalView {
  byPath: Map<string, LocalItem>;
  byFileId: Map<string, LocalItem>;
  /** Where each synced item was when it was synced; items in ignored places are left out. */
  syncedPath: Map<string, string>;
}

/** An inode of -1 marks a synced item whose local half is unknown (see `adopt`): never matched by inode. */
export const UNKNOWN_INODE = -1;

/**
 * Decides which local entry stands for which synced item: first the same path and kind; then, for
 * items gone from their path, the same inode (a rename keeps it); then, for files, the same non-empty
 * content found at exactly one new path (a delete and a create of the same bytes is a move).
 */
export function matchLocal(
  local: ReadonlyMap<string, LocalEntry>,
  synced: ReadonlyMap<string, SyncedEntry>,
  isIgnored: (path: string, isFolder: boolean) => boolean,
): LocalView {
  const syncedPath = new Map<string, string>();
  const pathOf = (fileId: string, depth = 0): string | undefined => {
    const known = syncedPath.get(fileId);
    if (known !== undefined) return known;
    const entry = synced.get(fileId);
    if (!entry || depth > 200) return undefined;
    const parent = entry.parentId === null ? "" : pathOf(entry.parentId, depth + 1);
    if (parent === undefined) return undefined;
    const path = joinPath(parent, entry.name);
    syncedPath.set(fileId, path);
    return path;
  };
  for (const fileId of synced.keys()) pathOf(fileId);
  for (const [fileId, path] of [...syncedPath]) {
    if (isIgnored(path, (synced.get(fileId) as SyncedEntry).isFolder)) syncedPath.delete(fileId);
  }

  const claimedBy = new Map<string, string>();
  const claimed = new Set<string>();
  const claim = (path: string, fileId: string) => {
    claimedBy.set(path, fileId);
    claimed.add(fileId);
  };
  const kindOf = (entry: SyncedEntry) => (entry.isFolder ? "folder" : "file");

  for (const [fileId, path] of syncedPath) {
    const entry = local.get(path);
    if (entry && entry.kind === kindOf(synced.get(fileId) as SyncedEntry)) claim(path, fileId);
  }
  const unclaimedByInode = new Map<number, LocalEntry>();
  const unclaimedByContent = new Map<string, LocalEntry[]>();
  for (const entry of local.values()) {
    if (claimedBy.has(entry.path)) continue;
    unclaimedByInode.set(entry.inode, entry);
    if (entry.kind === "file" && entry.chunks.length > 0) {
      const key = entry.chunks.map((chunk) => chunk.hash).join(",");
      const same = unclaimedByContent.get(key);
      if (same) same.push(entry);
      else unclaimedByContent.set(key, [entry]);
    }
  }
  for (const [fileId] of syncedPath) {
    if (claimed.has(fileId)) continue;
    const item = synced.get(fileId) as SyncedEntry;
    if (item.inode === UNKNOWN_INODE) continue;
    const entry = unclaimedByInode.get(item.inode);
    if (entry && !claimedBy.has(entry.path) && entry.kind === kindOf(item)) {
      claim(entry.path, fileId);
      continue;
    }
    if (item.isFolder || item.chunks.length === 0) continue;
    const candidates = (unclaimedByContent.get(item.chunks.join(",")) ?? []).filter(
      (c) => !claimedBy.has(c.path),
    );
    if (candidates.length === 1 && sameChunks(candidates[0]?.chunks.map((c) => c.hash) ?? [], item.chunks)) {
      claim((candidates[0] as LocalEntry).path, fileId);
    }
  }

  const byPath = new Map<string, LocalItem>();
  const byFileId = new Map<string, LocalItem>();
  for (const entry of local.values()) {
    const fileId = claimedBy.get(entry.path) ?? null;
    const folder = parentPath(entry.path);
    const parentId = folder === "" ? null : claimedBy.get(folder);
    const item: LocalItem = {
      entry,
      fileId,
      parent:
        folder === ""
          ? { fileId: null }
          : parentId !== undefined
            ? { fileId: parentId }
            : { newPath: folder },
      name: baseName(entry.path),
    };
    byPath.set(entry.path, item);
    if (fileId) byFileId.set(fileId, item);
  }
  return { byPath, byFileId, syncedPath };
}
