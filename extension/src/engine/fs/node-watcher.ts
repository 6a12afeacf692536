import { watch as nodeWatch } from "node:fs";
import { relative, sep } from "node:path";
import type { WatchHandle } from "./types.ts";

type ParcelWatcher = typeof import("@parcel/watcher");

/**
 * Recursive watching of a folder with @parcel/watcher (what VS Code itself uses): inotify per folder
 * on Linux, FSEvents on macOS, ReadDirectoryChangesW on Windows, all in native code. Node 20's own
 * recursive `fs.watch` on Linux keeps one watch per file inode, so a file replaced by a rename (every
 * download does that) goes unreported until a full rescan.
 *
 * The module is loaded on first use, so a bundle that never watches with it (the VS Code extension
 * uses the editor's watcher) does not need its native binary. When it cannot be loaded, Node's
 * watcher takes over and `onError` says so (the engine then rescans once).
 */
export function watchFolder(
  root: string,
  onChange: (path: string | null) => void,
  onError: (error: Error) => void,
): WatchHandle {
  let closed = false;
  let closeInner: (() => Promise<void> | void) | undefined;
  const toRelative = (absolute: string): string | null => {
    const path = relative(root, absolute);
    if (path === "" || path === ".." || path.startsWith(`..${sep}`)) return null;
    return path.split(sep).join("/");
  };

  const ready = (async () => {
    let parcel: ParcelWatcher;
    try {
      parcel = await import("@parcel/watcher");
    } catch (error) {
      if (closed) return;
      closeInner = fallbackWatch(root, onChange, onError);
      onError(new Error(`@parcel/watcher unavailable, using fs.watch: ${(error as Error).message}`));
      return;
    }
    const subscription = await parcel.subscribe(root, (error, events) => {
      if (closed) return;
      // An error here means the OS dropped events (e.g. an inotify queue overflow): the caller rescans.
      if (error) return onError(error);
      for (const event of events) onChange(toRelative(event.path));
    });
    if (closed) await subscription.unsubscribe();
    else closeInner = () => subscription.unsubscribe();
  })().catch((error: unknown) => {
    if (!closed) onError(error instanceof Error ? error : new Error(String(error)));
  });

  return {
    ready,
    close: () => {
      closed = true;
      void Promise.resolve(closeInner?.()).catch(() => {});
    },
  };
}

function fallbackWatch(
  root: string,
  onChange: (path: string | null) => void,
  onError: (error: Error) => void,
): () => void {
  const watcher = nodeWatch(root, { recursive: true }, (_event, filename) => {
    onChange(filename ? filename.toString().split(sep).join("/") : null);
  });
  watcher.on("error", onError);
  return () => watcher.close();
}
