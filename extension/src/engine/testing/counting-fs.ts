import type { FileSystem } from "../fs/types.ts";

export interface FsCounts {
  lstat: number;
  readdir: number;
  /** Files opened for reading: each one a file read (hashed, or an ignore file loaded). */
  openRead: number;
}

/** Wraps a FileSystem and counts the calls that cost a scan something, for tests that assert on cost. */
export function countingFileSystem(inner: FileSystem): { fs: FileSystem; counts: FsCounts; reset(): void } {
  const counts: FsCounts = { lstat: 0, readdir: 0, openRead: 0 };
  const fs: FileSystem = Object.create(inner, {
    lstat: {
      value: (path: string) => {
        counts.lstat++;
        return inner.lstat(path);
      },
    },
    readdir: {
      value: (path: string) => {
        counts.readdir++;
        return inner.readdir(path);
      },
    },
    openRead: {
      value: (path: string) => {
        counts.openRead++;
        return inner.openRead(path);
      },
    },
  });
  return {
    fs,
    counts,
    reset() {
      counts.lstat = 0;
      counts.readdir = 0;
      counts.openRead = 0;
    },
  };
}
