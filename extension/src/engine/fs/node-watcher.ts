import { watch as nodeWatch } from "node:fs";
import { readdir } from "node:fs/promises";
import { relative, sep } from "node:path";
import type { WatchHandle } from "./types.ts";

type ParcelWatcher = typeof import("@parcel/watcher");

/**
 * Unsubscriptions still running in this process. parcel's backend is shared by every watcher, and a
 * subscription made while another watcher's unsubscription was still running reported nothing at
 * all, once in 15 tries on a busy machine: a new subscription waits for them.
 */
let unsubscribing: Promise<unknown> = Promise.resolve();

/** Quiet time after the last new folder of folders before subscribing afresh: one subscription per burst. */
const RESUBSCRIBE_AFTER_MS = 100;

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
    let current: { unsubscribe(): Promise<void> } | undefined;
    let resubscribeTimer: NodeJS.Timeout | undefined;
    const subscribe = () =>
      parcel.subscribe(root, (error, events) => {
        if (closed) return;
        // An error here means the OS dropped events (e.g. an inotify queue overflow): the caller rescans.
        if (error) return onError(error);
        for (const event of events) {
          onChange(toRelative(event.path));
          if (event.type === "create") checkNewFolder(event.path);
        }
      });
    // On Linux, a folder that already holds folders when parcel's inotify backend sees it created
    // (`mkdir -p a/b`, a copy, a checkout) can leave those inner folders unwatched: nothing in them
    // would ever be reported (seen on a busy machine; parcel 2.5). A new subscription on the same
    // folder shares the old one's watches, so after each burst of such folders the watcher closes
    // and subscribes afresh, which watches every folder there is, then reports an unknown change:
    // the caller's rescan finds whatever changed meanwhile. A folder created empty needs none of
    // that: its watch is in place before it is reported, so folders made in it later are seen.
    const checkNewFolder = (absolute: string) => {
      void readdir(absolute, { withFileTypes: true })
        .then((entries) => {
          if (closed || !entries.some((entry) => entry.isDirectory())) return;
          clearTimeout(resubscribeTimer);
          resubscribeTimer = setTimeout(() => void resubscribe(), RESUBSCRIBE_AFTER_MS);
        })
        .catch(() => {});
    };
    const resubscribe = async () => {
      try {
        await current?.unsubscribe();
        current = undefined;
        await unsubscribing;
        if (closed) return;
        current = await subscribe();
        if (closed) return await current.unsubscribe();
      } catch (error) {
        if (!closed) onError(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      onChange(null);
    };
    await unsubscribing;
    if (closed) return;
    current = await subscribe();
    if (closed) await current.unsubscribe();
    else
      closeInner = () => {
        clearTimeout(resubscribeTimer);
        return current?.unsubscribe();
      };
  })().catch((error: unknown) => {
    if (!closed) onError(error instanceof Error ? error : new Error(String(error)));
  });

  return {
    ready,
    close: () => {
      closed = true;
      const closing = Promise.resolve(closeInner?.()).catch(() => {});
      unsubscribing = Promise.all([unsubscribing, closing]);
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
