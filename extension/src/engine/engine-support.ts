import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ChunkHash } from "@wsync/shared-protocol";
import type { ChunkRef } from "./chunking/chunk-file.ts";
import type { FileSystem } from "./fs/types.ts";
import { joinPath } from "./fs/types.ts";
import type { SyncedEntry } from "./model/types.ts";
import { UNKNOWN_INODE } from "./plan/local-view.ts";
import type { LocalEntry } from "./scan/scanner.ts";
import type { ChunkCache } from "./transfer/chunk-cache.ts";
import { type ChunkLocator, type ChunkSource, rangeSource } from "./transfer/downloader.ts";

/** The path of every synced item whose folders are all known. */
export function syncedPaths(synced: ReadonlyMap<string, SyncedEntry>): Map<string, string> {
  const paths = new Map<string, string>();
  const resolve = (fileId: string, depth: number): string | undefined => {
    const known = paths.get(fileId);
    if (known !== undefined) return known;
    const entry = synced.get(fileId);
    if (!entry || depth > 200) return undefined;
    const parent = entry.parentId === null ? "" : resolve(entry.parentId, depth + 1);
    if (parent === undefined) return undefined;
    const path = joinPath(parent, entry.name);
    paths.set(fileId, path);
    return path;
  };
  for (const fileId of synced.keys()) resolve(fileId, 0);
  return paths;
}

/**
 * What the scanner may trust at startup: synced files whose local half is known, with their chunks, so
 * an unchanged file (same size, mtime and inode) is not read again after a restart.
 */
export function seedEntries(synced: ReadonlyMap<string, SyncedEntry>): LocalEntry[] {
  const entries: LocalEntry[] = [];
  for (const [fileId, path] of syncedPaths(synced)) {
    const entry = localEntryOf(path, synced.get(fileId) as SyncedEntry);
    if (entry) entries.push(entry);
  }
  return entries;
}

/**
 * The files a round downloaded, as the scanner should know them: the synced records their downloads
 * committed (chunks and the stat after the rename). One whose record holds no local half (the file
 * changed at once) is left out: the scanner reads it in full.
 */
export function writtenEntries(
  synced: ReadonlyMap<string, SyncedEntry>,
  written: ReadonlyMap<string, { fileId: string; knownAt: number }>,
): Array<{ entry: LocalEntry; knownAt: number }> {
  const entries: Array<{ entry: LocalEntry; knownAt: number }> = [];
  for (const [path, { fileId, knownAt }] of written) {
    const record = synced.get(fileId);
    const entry = record && localEntryOf(path, record);
    if (entry) entries.push({ entry, knownAt });
  }
  return entries;
}

/** A synced file as the scanner knows a file on disk; null when its local half is not known. */
export function localEntryOf(path: string, entry: SyncedEntry): LocalEntry | null {
  if (entry.isFolder || entry.inode === UNKNOWN_INODE || entry.chunkSizes.length !== entry.chunks.length)
    return null;
  let offset = 0;
  const chunks: ChunkRef[] = entry.chunks.map((hash, index) => {
    const size = entry.chunkSizes[index] as number;
    const ref = { hash, offset, size };
    offset += size;
    return ref;
  });
  return {
    path,
    kind: "file",
    size: entry.size,
    mtimeMs: entry.mtimeMs,
    ctimeMs: entry.ctimeMs,
    inode: entry.inode,
    mode: entry.mode,
    chunks,
  };
}

/**
 * Chunks of the files as scanned, and of the chunk cache, by hash: a download takes them from disk
 * instead of the network.
 */
export function locatorOf(fs: FileSystem, entries: Iterable<LocalEntry>, cache?: ChunkCache): ChunkLocator {
  const index = new Map<ChunkHash, ChunkSource[]>();
  for (const entry of entries) {
    for (const chunk of entry.chunks) {
      const sources = index.get(chunk.hash) ?? [];
      if (sources.length < 3) sources.push(rangeSource(fs, entry.path, chunk.offset, chunk.size));
      index.set(chunk.hash, sources);
    }
  }
  return {
    find: (hash) => {
      const sources = index.get(hash) ?? [];
      return cache?.has(hash) ? [...sources, cache.source(hash)] : sources;
    },
  };
}

const heldHere = new Set<string>();

/** One engine per state folder: a second one (this process or another) would corrupt it. */
export async function lockStateDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, "lock");
  if (heldHere.has(path)) throw new Error(`${dir} is already in use by a sync engine in this process`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, "wx", 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      heldHere.add(path);
      return async () => {
        heldHere.delete(path);
        await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number(await readFile(path, "utf8").catch(() => ""));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new Error(`${dir} is in use by another sync engine (process ${pid})`);
      }
      // Left by a process that is gone (or by this one before a crash it survived): take it over.
      await rm(path, { force: true });
    }
  }
  throw new Error(`could not lock ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
