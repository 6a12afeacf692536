import { createHash } from "node:crypto";
import { syncedPaths } from "../engine-support.ts";
import { baseName, type FileSystem, joinPath, parentPath } from "../fs/types.ts";
import type { SyncedEntry } from "../model/types.ts";
import { conflictedCopyName } from "../plan/conflict-name.ts";
import { TEMP_PREFIX } from "../scan/ignore-rules.ts";
import { StateBatch, type StateStore } from "../state/state-store.ts";

/**
 * Where a member of a ring of moves waits while the others move: a name the scanner ignores (our
 * temporary prefix) in its own folder (a rename, never a copy). Its synced record is pointed at that
 * name before it goes there, so at no moment do two records claim one path; the name tells which item
 * it holds, so a crash in between brings the item back (see `recoverParked`) instead of leaving it
 * hidden or deleting it as a leftover download.
 */
const PARK_PREFIX = `${TEMP_PREFIX}park-`;
const parkTag = (fileId: string) => createHash("sha256").update(fileId).digest("hex").slice(0, 24);

export function parkPath(path: string, fileId: string): string {
  return joinPath(parentPath(path), `${PARK_PREFIX}${parkTag(fileId)}`);
}

const isParkName = (name: string) => name.startsWith(PARK_PREFIX);

function folderIdOf(paths: ReadonlyMap<string, string>, folder: string): string | null | undefined {
  if (folder === "") return null;
  for (const [fileId, path] of paths) if (path === folder) return fileId;
  return undefined;
}

/** Points the item's synced record at its parking place; false when its folder has no record. */
export async function recordParked(store: StateStore, fileId: string, parked: string): Promise<boolean> {
  const record = store.synced.get(fileId);
  const folderId = folderIdOf(syncedPaths(store.synced), parentPath(parked));
  if (!record || folderId === undefined) return false;
  await store.commit(new StateBatch().putSynced({ ...record, parentId: folderId, name: baseName(parked) }));
  return true;
}

async function besideName(fs: FileSystem, path: string, deviceName: string): Promise<string> {
  const folder = parentPath(path);
  const siblings = new Set(await fs.readdir(folder).catch(() => [] as string[]));
  const name = conflictedCopyName(baseName(path), deviceName, new Date(), (n) => siblings.has(n));
  return joinPath(folder, name);
}

/**
 * Finds the parked item of a record left pointing at its parking place (a ring that failed or a
 * process that died in between) and records where it is: it goes from its parking place to where the
 * server has it when that place is free (on the disk and in the records), else beside it; or it is found by inode where the ring had
 * already put it (`findByInode`). The record keeps its base content but version 0, no version of the
 * server's, so the next plan takes the server's place for it and compares content with the base as
 * before. Not found: the record goes, and the server's version comes back. Returns the path to rescan.
 */
export async function repairParked(
  fs: FileSystem,
  store: StateStore,
  fileId: string,
  deviceName: string,
  findByInode: (inode: number) => Promise<string | undefined>,
): Promise<string | null> {
  const record = store.synced.get(fileId);
  if (!record || !isParkName(record.name)) return null;
  const paths = syncedPaths(store.synced);
  const parked = paths.get(fileId);
  let at: string | undefined;
  if (parked !== undefined && (await fs.lstat(parked))?.inode === record.inode) {
    const remote = store.remote.get(fileId);
    const folder = remote && !remote.deleted ? folderPathOf(paths, remote.parentId) : undefined;
    const target = folder !== undefined && remote ? joinPath(folder, remote.name) : undefined;
    // Free on the disk, and no other record's place either: one that moved before the ring stopped
    // may not have been recorded at its new place yet.
    const free =
      folder !== undefined &&
      target !== undefined &&
      ![...paths.values()].includes(target) &&
      (folder === "" || (await fs.lstat(folder))?.kind === "folder") &&
      !(await fs.lstat(target));
    const place = target ?? joinPath(parentPath(parked), "parked item");
    at = free ? place : await besideName(fs, place, deviceName);
    await fs.rename(parked, at);
  } else {
    at = await findByInode(record.inode);
  }
  const folderId = at === undefined ? undefined : folderIdOf(paths, parentPath(at));
  if (at === undefined || folderId === undefined) {
    await store.commit(new StateBatch().deleteSynced(fileId));
    return at ?? null;
  }
  await store.commit(
    new StateBatch().putSynced({ ...record, parentId: folderId, name: baseName(at), version: 0 }),
  );
  return at;
}

function folderPathOf(paths: ReadonlyMap<string, string>, folderId: string | null): string | undefined {
  return folderId === null ? "" : paths.get(folderId);
}

/**
 * After a full scan, before any plan: items a ring left parked come back (see `repairParked`), and
 * parked items without a record (their folder had none) come back under their synced name or beside
 * it. Returns the paths to rescan.
 */
export async function recoverParked(
  fs: FileSystem,
  store: StateStore,
  temporaries: Iterable<string>,
  deviceName: string,
  findByInode: (inode: number) => Promise<string | undefined>,
): Promise<string[]> {
  const moved: string[] = [];
  const parkedIds = [...store.synced.values()].filter((r) => isParkName(r.name)).map((r) => r.fileId);
  for (const fileId of parkedIds) {
    const at = await repairParked(fs, store, fileId, deviceName, findByInode);
    if (at !== null) moved.push(at);
  }
  for (const path of temporaries) {
    if (!isParkName(baseName(path)) || !(await fs.lstat(path))) continue;
    const tag = baseName(path).slice(PARK_PREFIX.length);
    const entry: SyncedEntry | undefined = [...store.synced.values()].find((r) => parkTag(r.fileId) === tag);
    const wanted = joinPath(parentPath(path), entry?.name ?? "parked item");
    const target = (await fs.lstat(wanted)) ? await besideName(fs, wanted, deviceName) : wanted;
    await fs.rename(path, target);
    moved.push(target);
  }
  return moved;
}

export const isParkPath = (path: string) => isParkName(baseName(path));
