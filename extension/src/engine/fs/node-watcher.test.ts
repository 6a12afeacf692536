import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NodeFileSystem } from "./node-fs.ts";
import type { WatchHandle } from "./types.ts";

let root: string;
let handle: WatchHandle | undefined;
let seen: Array<string | null>;
let errors: Error[];
let waiters: Array<{ matches: (path: string | null) => boolean; resolve: () => void }>;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "wsync-watch-"));
  seen = [];
  errors = [];
  waiters = [];
});
afterEach(async () => {
  handle?.close();
  handle = undefined;
  await rm(root, { recursive: true, force: true });
});

async function startWatching(): Promise<void> {
  handle = new NodeFileSystem(root).watch(
    (path) => {
      seen.push(path);
      const met = waiters.filter((w) => w.matches(path));
      for (const waiter of met) waiter.resolve();
      waiters = waiters.filter((w) => !met.includes(w));
    },
    (error) => errors.push(error),
  );
  await handle.ready;
}

/** Resolves when `path` is reported (the test's timeout fails it otherwise). */
function reported(path: string): Promise<void> {
  return new Promise((resolve) => waiters.push({ matches: (seenPath) => seenPath === path, resolve }));
}

/**
 * Resolves when `path` or a folder above it is reported. A file written into a folder made a moment
 * before may land before the watcher watches that folder; the folder's own event covers it, since the
 * engine rescans a reported folder with everything in it.
 */
function covered(path: string): Promise<void> {
  return new Promise((resolve) =>
    waiters.push({
      matches: (seenPath) => seenPath !== null && (seenPath === path || path.startsWith(`${seenPath}/`)),
      resolve,
    }),
  );
}

/** Resolves when the watcher reports an unknown change (the caller would rescan everything). */
function unknownChange(): Promise<void> {
  return new Promise((resolve) => waiters.push({ matches: (seenPath) => seenPath === null, resolve }));
}

/** Lets the OS deliver whatever the last operation still has in flight, then forgets what was seen. */
async function drain(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  seen = [];
}

describe("NodeFileSystem.watch", () => {
  it("keeps reporting a file after a rename replaced it, as a download does", async () => {
    await mkdir(join(root, "sub"));
    await writeFile(join(root, "sub/doc.txt"), "before");
    await startWatching();

    const replaced = reported("sub/doc.txt");
    await writeFile(join(root, "sub/.wsync-tmp-1"), "downloaded");
    await rename(join(root, "sub/.wsync-tmp-1"), join(root, "sub/doc.txt"));
    await replaced;
    await drain();

    // Node 20's recursive fs.watch on Linux watched the replaced inode and never reported this edit.
    const edited = reported("sub/doc.txt");
    await writeFile(join(root, "sub/doc.txt"), "edited by the user");
    await edited;
    await drain();

    const editedAgain = reported("sub/doc.txt");
    await writeFile(join(root, "sub/doc.txt"), "and again");
    await editedAgain;
    expect(errors).toEqual([]);
  }, 30_000);

  it("reports files in folders created after it started, and deletions, as workspace paths", async () => {
    await startWatching();
    const created = covered("new/deep/a.txt");
    // A folder made with a folder in it: the watcher subscribes afresh (so that the inner one is
    // watched, which parcel alone missed on a busy machine) and reports an unknown change.
    const subscribedAfresh = unknownChange();
    await mkdir(join(root, "new/deep"), { recursive: true });
    await writeFile(join(root, "new/deep/a.txt"), "x");
    await created;
    await subscribedAfresh;
    await drain();

    const edited = reported("new/deep/a.txt");
    await writeFile(join(root, "new/deep/a.txt"), "y");
    await edited;

    const deleted = reported("new/deep/a.txt");
    await unlink(join(root, "new/deep/a.txt"));
    await deleted;
    expect(errors).toEqual([]);
  }, 30_000);

  it("reports nothing after close", async () => {
    await startWatching();
    handle?.close();
    await writeFile(join(root, "late.txt"), "x");
    await drain();
    await writeFile(join(root, "late.txt"), "y");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toEqual([]);
  });
});
