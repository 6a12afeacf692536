import type { FileSystem } from "../engine/index.ts";

export const HELD_UNSAVED_EDITS = "held_unsaved_edits";

/** A download was held back because the file has unsaved edits; sync retries it later. */
export class HeldForUnsavedEditsError extends Error {
  readonly code = HELD_UNSAVED_EDITS;
  constructor(readonly path: string) {
    super(`${path} has unsaved edits in an editor; the newer version waits`);
    this.name = "HeldForUnsavedEditsError";
  }
}

export interface GuardOptions {
  /** Whether a download may replace the file at `path` now (see DirtyGuard). */
  allowsReplace(path: string): boolean;
  /** Change events from the editor's own file watcher, instead of the engine's. */
  watch?: FileSystem["watch"];
}

/**
 * The engine's disk, as the extension hands it over. A download lands by renaming a finished temporary
 * file over its target: that rename is where a file with unsaved edits is protected. Change events come
 * from VS Code's file watcher (which also reports changes made outside VS Code).
 */
export function guardedFileSystem(inner: FileSystem, options: GuardOptions): FileSystem {
  const watch = options.watch ?? inner.watch?.bind(inner);
  return {
    lstat: (path) => inner.lstat(path),
    readdir: (path) => inner.readdir(path),
    openRead: (path) => inner.openRead(path),
    createExclusive: (path, mode) => inner.createExclusive(path, mode),
    rename: async (from, to) => {
      if (!options.allowsReplace(to)) throw new HeldForUnsavedEditsError(to);
      await inner.rename(from, to);
    },
    unlink: (path) => inner.unlink(path),
    mkdir: (path) => inner.mkdir(path),
    rmdir: (path) => inner.rmdir(path),
    chmod: (path, mode) => inner.chmod(path, mode),
    syncFolder: (path) => inner.syncFolder(path),
    ...(watch ? { watch } : {}),
  };
}
