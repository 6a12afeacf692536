import { constants, type Stats } from "node:fs";
import { chmod, lstat, mkdir, open, readdir, rename, rmdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { fileNameProblem } from "@wsync/shared-protocol";
import { watchFolder } from "./node-watcher.ts";
import type { EntryKind, FileStat, FileSystem, ReadHandle, WatchHandle, WriteHandle } from "./types.ts";

function kindOf(stats: Stats): EntryKind {
  if (stats.isSymbolicLink()) return "symlink";
  if (stats.isFile()) return "file";
  if (stats.isDirectory()) return "folder";
  return "other";
}

export function toFileStat(stats: Stats): FileStat {
  return {
    kind: kindOf(stats),
    size: stats.size,
    mtimeMs: stats.mtimeMs,
    ctimeMs: stats.ctimeMs,
    inode: stats.ino,
    mode: stats.mode & 0o7777,
  };
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** The real disk under `root`. Every path is checked segment by segment so none can leave the root. */
export class NodeFileSystem implements FileSystem {
  constructor(readonly root: string) {}

  resolve(path: string): string {
    if (path === "") return this.root;
    for (const segment of path.split("/")) {
      const problem = fileNameProblem(segment);
      if (problem) throw new Error(`refusing path ${JSON.stringify(path)}: a segment ${problem}`);
    }
    return join(this.root, ...path.split("/"));
  }

  async lstat(path: string): Promise<FileStat | null> {
    try {
      return toFileStat(await lstat(this.resolve(path)));
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  readdir(path: string): Promise<string[]> {
    return readdir(this.resolve(path));
  }

  async openRead(path: string): Promise<ReadHandle> {
    // O_NOFOLLOW: a symlink swapped in after the scan is refused rather than read through.
    const handle = await open(this.resolve(path), constants.O_RDONLY | constants.O_NOFOLLOW);
    return {
      fd: handle.fd,
      stat: async () => toFileStat(await handle.stat()),
      read: async (buffer, position) => (await handle.read(buffer, 0, buffer.length, position)).bytesRead,
      close: () => handle.close(),
    };
  }

  async createExclusive(path: string, mode = 0o644): Promise<WriteHandle> {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const handle = await open(this.resolve(path), flags, mode);
    return {
      write: async (data) => {
        let offset = 0;
        while (offset < data.length) {
          offset += (await handle.write(data, offset, data.length - offset)).bytesWritten;
        }
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  }

  rename(from: string, to: string): Promise<void> {
    return rename(this.resolve(from), this.resolve(to));
  }

  unlink(path: string): Promise<void> {
    return unlink(this.resolve(path));
  }

  async mkdir(path: string): Promise<void> {
    await mkdir(this.resolve(path));
  }

  rmdir(path: string): Promise<void> {
    return rmdir(this.resolve(path));
  }

  chmod(path: string, mode: number): Promise<void> {
    return chmod(this.resolve(path), mode);
  }

  async syncFolder(path: string): Promise<void> {
    const handle = await open(this.resolve(path), constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  watch(onChange: (path: string | null) => void, onError: (error: Error) => void): WatchHandle {
    return watchFolder(this.root, onChange, onError);
  }
}
