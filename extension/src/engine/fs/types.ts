/**
 * The file-system edge of the engine. Paths are workspace-relative POSIX paths ("" is the root,
 * "src/a.ts" a file in it); implementations resolve them under their root and never outside it.
 * The real one is `NodeFileSystem`; `MemoryFileSystem` lets tests run the scanner and the executor
 * without a disk.
 */
export type EntryKind = "file" | "folder" | "symlink" | "other";

export interface FileStat {
  kind: EntryKind;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  inode: number;
  /** Permission bits (e.g. 0o755): the executable bit is kept when a file is replaced. */
  mode: number;
}

export interface ReadHandle {
  /**
   * The OS file descriptor, when the handle is a real file: worker threads may read the file through
   * it (positional reads only: they never move, close or write it) while the handle stays open.
   */
  readonly fd?: number;
  stat(): Promise<FileStat>;
  /** Reads up to `buffer.length` bytes at `position`; 0 at the end of the file. */
  read(buffer: Uint8Array, position: number): Promise<number>;
  close(): Promise<void>;
}

export interface WriteHandle {
  write(data: Uint8Array): Promise<void>;
  /** fsync: the bytes are on disk before the file is renamed into place. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface WatchHandle {
  /** Settles once the watcher reports changes (a native watcher subscribes asynchronously). */
  ready?: Promise<void>;
  close(): void;
}

export interface FileSystem {
  /** Never follows a symbolic link; null when nothing is there. */
  lstat(path: string): Promise<FileStat | null>;
  readdir(path: string): Promise<string[]>;
  openRead(path: string): Promise<ReadHandle>;
  /** Creates a new file exclusively (fails when the path exists). */
  createExclusive(path: string, mode?: number): Promise<WriteHandle>;
  /** Atomic within one folder; replaces a file at `to`. */
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  /** fsync of a folder, so a rename in it survives a power cut. */
  syncFolder(path: string): Promise<void>;
  /**
   * Reports changed paths (workspace-relative, or null when the OS could not say which) until closed.
   * `onError` means events may have been lost: the caller rescans.
   */
  watch?(onChange: (path: string | null) => void, onError: (error: Error) => void): WatchHandle;
}

/** Whether two stats describe the same unchanged file: size, mtime and inode, as the issue asks. */
export function unchangedStat(
  a: Pick<FileStat, "size" | "mtimeMs" | "inode">,
  b: Pick<FileStat, "size" | "mtimeMs" | "inode">,
): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.inode === b.inode;
}

export function parentPath(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

export function joinPath(folder: string, name: string): string {
  return folder === "" ? name : `${folder}/${name}`;
}

/** Whether `path` is `folder` itself or inside it. */
export function isWithin(path: string, folder: string): boolean {
  return folder === "" || path === folder || path.startsWith(`${folder}/`);
}
