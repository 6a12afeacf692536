import pLimit from "p-limit";
import { type ChunkRef, chunkFile, FileUnstableError } from "../chunking/chunk-file.ts";
import type { ChunkingOptions } from "../chunking/chunker.ts";
import type { ChunkHasher } from "../chunking/hasher.ts";
import {
  baseName,
  type FileStat,
  type FileSystem,
  isWithin,
  joinPath,
  parentPath,
  unchangedStat,
} from "../fs/types.ts";
import { IgnoreRules, SYNCIGNORE, TEMP_PREFIX } from "./ignore-rules.ts";
import { verifyChunks } from "./verify-chunks.ts";

/** A file or folder on disk as the last scan saw it; a file with its chunks. */
export interface LocalEntry {
  path: string;
  kind: "file" | "folder";
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  inode: number;
  mode: number;
  chunks: ChunkRef[];
}

/** Something in the folder that is not synced and the user should hear about. */
export interface SkippedEntry {
  path: string;
  reason: "symlink" | "special" | "unstable" | "unreadable";
  detail?: string;
}

export interface ScannerOptions {
  chunking?: ChunkingOptions;
  hasher?: ChunkHasher;
  /** Files hashed at the same time. */
  concurrency?: number;
  /** Wall clock, ms (tests). */
  now?: () => number;
}

/**
 * A file read less than this long after its mtime is "racily clean" (Git's term): a second write in the
 * same timestamp tick would leave size, mtime and inode as they were, so its stat cannot vouch for its
 * bytes until it is read again later. Timestamps tick every few ms on Linux, 1 s or 2 s on some file
 * systems (FAT, HFS+): 2 s covers them all.
 */
export const RACY_WINDOW_MS = 2_000;

/**
 * Walks the folder and keeps a picture of it: every file and folder that is not ignored, files with
 * their chunks. A file whose size, mtime and inode match what is already known (at its path, or
 * anywhere for a renamed file) is not read again, so a restart with nothing changed costs one lstat
 * per entry.
 */
export class Scanner {
  readonly entries = new Map<string, LocalEntry>();
  readonly skipped = new Map<string, SkippedEntry>();
  /** Our temporary files seen by the last scans: left by a crash when no transfer is running. */
  readonly temporaries = new Set<string>();
  private byInode = new Map<number, LocalEntry>();
  /** When each file's bytes were last read (wall clock), for the racy check; none for seeded entries. */
  private readonly readAt = new Map<string, number>();
  private readonly limit: ReturnType<typeof pLimit>;

  constructor(
    private readonly fs: FileSystem,
    readonly rules: IgnoreRules,
    private readonly options: ScannerOptions = {},
  ) {
    this.limit = pLimit(options.concurrency ?? 4);
  }

  /** Known content (e.g. from the state store at startup), reused when the stat still matches. */
  seed(entries: Iterable<LocalEntry>): void {
    for (const entry of entries) {
      this.entries.set(entry.path, entry);
      this.readAt.delete(entry.path);
      this.byInode.set(entry.inode, entry);
    }
  }

  /**
   * Files the engine itself has just written (a download renamed into place), with the chunks it
   * verified: the next visit checks those chunks instead of cutting and hashing the file again.
   * `knownAt` is no later than the rename, so a write by anyone after it still meets the racy check.
   */
  learnWritten(written: Iterable<{ entry: LocalEntry; knownAt: number }>): void {
    for (const { entry, knownAt } of written) {
      this.record(entry);
      this.readAt.set(entry.path, knownAt);
      this.byInode.set(entry.inode, entry);
    }
  }

  /** Rescans everything; returns whether any entry changed. */
  async fullScan(): Promise<boolean> {
    return this.rescan([""]);
  }

  /**
   * Rescans these paths (a folder with everything under it). Returns whether anything changed. When an
   * ignore file changed, everything is rescanned, since what is ignored may have changed anywhere.
   */
  async rescan(paths: Iterable<string>): Promise<boolean> {
    let changed = false;
    const roots = minimalRoots([...paths]);
    for (const root of roots) {
      const seen = new Set<string>();
      const before = this.snapshotVersion;
      await this.recordAncestors(root);
      const rulesChanged = await this.visit(root, seen);
      for (const path of [...this.entries.keys()]) {
        if (isWithin(path, root) && path !== "" && !seen.has(path)) {
          this.entries.delete(path);
          this.readAt.delete(path);
          this.snapshotVersion++;
        }
      }
      for (const path of [...this.skipped.keys()]) {
        if (isWithin(path, root) && !seen.has(path)) this.skipped.delete(path);
      }
      if (this.snapshotVersion !== before) changed = true;
      if (rulesChanged && root !== "") return (await this.fullScan()) || changed;
    }
    this.byInode = new Map([...this.entries.values()].map((entry) => [entry.inode, entry]));
    return changed;
  }

  /** Bumped on every change to `entries`. */
  snapshotVersion = 0;

  /** A change deep in a new folder may be reported before the folder itself: record the folders. */
  private async recordAncestors(path: string): Promise<void> {
    const ancestors: string[] = [];
    for (let folder = parentPath(path); folder !== ""; folder = parentPath(folder)) ancestors.unshift(folder);
    for (const folder of ancestors) {
      if (this.entries.has(folder) || this.rules.isIgnored(folder, true)) continue;
      const stat = await this.fs.lstat(folder);
      if (stat?.kind !== "folder") return;
      this.record({ path: folder, kind: "folder", ...statFields(stat), chunks: [] });
    }
  }

  private async visit(path: string, seen: Set<string>): Promise<boolean> {
    if (baseName(path).startsWith(TEMP_PREFIX)) {
      this.temporaries.add(path);
      return false;
    }
    const stat = await this.fs.lstat(path);
    if (!stat) return false;
    if (path !== "" && this.rules.isIgnored(path, stat.kind === "folder")) return false;
    seen.add(path);
    if (stat.kind === "symlink" || stat.kind === "other") {
      // Not followed: a link could point anywhere, even outside the folder.
      this.skipped.set(path, { path, reason: stat.kind === "symlink" ? "symlink" : "special" });
      return false;
    }
    if (stat.kind === "file") {
      await this.limit(() => this.visitFile(path, stat));
      // Rescanned on its own (a watcher event), an ignore file's new rules must reach the whole tree.
      return IgnoreRules.isIgnoreFile(path) ? this.loadIgnoreFile(path) : false;
    }
    return this.visitFolder(path, stat, seen);
  }

  private async visitFolder(path: string, stat: FileStat, seen: Set<string>): Promise<boolean> {
    if (path !== "") this.record({ path, kind: "folder", ...statFields(stat), chunks: [] });
    let names: string[];
    try {
      names = await this.fs.readdir(path);
    } catch {
      return false;
    }
    // Ignore files first, so their rules apply to their siblings.
    let rulesChanged = false;
    for (const name of names) {
      if (name === ".gitignore" || (path === "" && name === SYNCIGNORE)) {
        rulesChanged = (await this.loadIgnoreFile(joinPath(path, name))) || rulesChanged;
      }
    }
    if (!names.includes(".gitignore"))
      rulesChanged = this.rules.setIgnoreFile(joinPath(path, ".gitignore"), null) || rulesChanged;
    if (path === "" && !names.includes(SYNCIGNORE))
      rulesChanged = this.rules.setIgnoreFile(SYNCIGNORE, null) || rulesChanged;
    const results = await Promise.all(names.map((name) => this.visit(joinPath(path, name), seen)));
    return rulesChanged || results.some(Boolean);
  }

  private async loadIgnoreFile(path: string): Promise<boolean> {
    try {
      const handle = await this.fs.openRead(path);
      try {
        const stat = await handle.stat();
        const buffer = new Uint8Array(Math.min(stat.size, 1024 * 1024));
        const read = await handle.read(buffer, 0);
        return this.rules.setIgnoreFile(path, new TextDecoder().decode(buffer.subarray(0, read)));
      } finally {
        await handle.close();
      }
    } catch {
      return this.rules.setIgnoreFile(path, null);
    }
  }

  private async visitFile(path: string, stat: FileStat): Promise<void> {
    const known = this.entries.get(path);
    if (known && known.kind === "file" && unchangedStat(known, stat)) {
      if (this.settled(known)) {
        // The same bytes, but a chmod leaves size and mtime alone: record the mode (the executable bit
        // syncs) without reading the file again.
        if (known.mode !== stat.mode) this.record({ ...known, ...statFields(stat) });
        return;
      }
      if (await this.stillHolds(known)) return;
    }
    const moved = this.byInode.get(stat.inode);
    if (
      moved &&
      moved.kind === "file" &&
      moved.size === stat.size &&
      moved.mtimeMs === stat.mtimeMs &&
      this.settled(moved)
    ) {
      this.record({ ...moved, path, ...statFields(stat) });
      const movedReadAt = this.readAt.get(moved.path);
      if (movedReadAt === undefined) this.readAt.delete(path);
      else this.readAt.set(path, movedReadAt);
      return;
    }
    try {
      // Taken before reading: a write after it gets an mtime no older than this, less one tick.
      const readStart = (this.options.now ?? Date.now)();
      const chunked = await chunkFile(this.fs, path, this.options);
      this.readAt.set(path, readStart);
      this.skipped.delete(path);
      this.record({ path, kind: "file", ...statFields(chunked.stat), chunks: chunked.chunks });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        this.readAt.delete(path);
        if (this.entries.delete(path)) this.snapshotVersion++;
        return;
      }
      if (error instanceof FileUnstableError) this.skipped.set(path, { path, reason: "unstable" });
      else this.skipped.set(path, { path, reason: "unreadable", detail: (error as Error).message });
      // Keep what was known: a file we cannot read now is not a deleted one.
    }
  }

  /**
   * A racily clean file checked against the chunks known for it (SHA-256 alone, no cutting): what a
   * file the engine has just downloaded costs to confirm, and an editor's second save event too.
   */
  private async stillHolds(known: LocalEntry): Promise<boolean> {
    const readStart = (this.options.now ?? Date.now)();
    const stat = await verifyChunks(this.fs, known.path, known.chunks, known).catch(() => null);
    if (!stat) return false;
    this.readAt.set(known.path, readStart);
    this.record({ ...known, ...statFields(stat) });
    return true;
  }

  /** Whether an entry's stat can vouch for its bytes: not read within the racy window of its mtime. */
  private settled(entry: LocalEntry): boolean {
    const readAt = this.readAt.get(entry.path);
    // Seeded from the state store: the engine recorded it when the commit or download was done.
    if (readAt === undefined) return true;
    return readAt - entry.mtimeMs >= RACY_WINDOW_MS;
  }

  private record(entry: LocalEntry): void {
    const known = this.entries.get(entry.path);
    if (
      known &&
      known.kind === entry.kind &&
      known.size === entry.size &&
      known.mtimeMs === entry.mtimeMs &&
      known.inode === entry.inode &&
      known.mode === entry.mode &&
      (entry.kind === "folder" || sameChunks(known.chunks, entry.chunks))
    ) {
      return;
    }
    this.entries.set(entry.path, entry);
    this.snapshotVersion++;
  }
}

function sameChunks(a: readonly ChunkRef[], b: readonly ChunkRef[]): boolean {
  return a === b || (a.length === b.length && a.every((chunk, i) => chunk.hash === b[i]?.hash));
}

function statFields(stat: FileStat) {
  return {
    size: stat.size,
    mtimeMs: stat.mtimeMs,
    ctimeMs: stat.ctimeMs,
    inode: stat.inode,
    mode: stat.mode,
  };
}

/** Drops paths inside other listed paths: rescanning a folder covers what is in it. */
function minimalRoots(paths: string[]): string[] {
  const sorted = [...new Set(paths)].sort((a, b) => a.length - b.length);
  const roots: string[] = [];
  for (const path of sorted) if (!roots.some((root) => isWithin(path, root))) roots.push(path);
  return roots;
}
