import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient, type ChunkHash } from "@wsync/shared-protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MemoryFileSystem } from "../fs/memory-fs.ts";
import { NodeFileSystem } from "../fs/node-fs.ts";
import type { FileSystem } from "../fs/types.ts";
import type { RemoteEntry } from "../model/types.ts";
import { hashOf, localEntry } from "../plan/planner-fixtures.ts";
import { StateStore } from "../state/state-store.ts";
import { TransferStats } from "../transfer/stats.ts";
import { applyDeleteLocal, applyPull } from "./apply-local.ts";
import { type ApplyContext, StaleLocalStateError } from "./context.ts";

let stateDir: string;
let store: StateStore;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "wsync-apply-"));
  store = await StateStore.open(stateDir);
});
afterEach(async () => {
  await store.close();
  await rm(stateDir, { recursive: true, force: true });
});

/** The server is never reached in these tests: any request is a failure of the test. */
function context(fs: FileSystem): ApplyContext {
  return {
    fs,
    api: new ApiClient({
      baseUrl: "http://unreachable.test",
      fetch: () => Promise.reject(new Error("no network in this test")),
    }),
    store,
    stats: new TransferStats(),
    deviceId: "d",
    deviceName: "test",
    concurrency: 2,
    chunkLimit: (fn) => fn(),
    fetch: () => Promise.reject(new Error("no network in this test")),
    locator: { find: () => [] },
    onConflict: () => {},
    onProgress: () => {},
    signal: new AbortController().signal,
    touched: new Set(),
    written: new Map(),
  };
}

const remote = (name: string, parentId: string | null, chunks: ChunkHash[] = []): RemoteEntry => ({
  fileId: `id-${name}`,
  parentId,
  name,
  isFolder: chunks.length === 0,
  version: 2,
  size: 0,
  chunks,
  deleted: false,
  updatedAt: "2026-03-15T09:22:10Z",
  deviceId: "other",
});

describe("applying server changes to the disk", () => {
  it("never writes through a symlinked folder, whatever the server says", async () => {
    const root = await mkdtemp(join(tmpdir(), "wsync-root-"));
    const outside = await mkdtemp(join(tmpdir(), "wsync-outside-"));
    try {
      await symlink(outside, join(root, "link"));
      const fs = new NodeFileSystem(root);
      const action = {
        type: "pull" as const,
        fileId: "f",
        remote: { ...remote("evil.txt", "id-link", [hashOf("a")]), isFolder: false },
        from: null,
        to: "link/evil.txt",
        content: true,
      };
      await expect(applyPull(context(fs), action)).rejects.toBeInstanceOf(StaleLocalStateError);
      const { readdir } = await import("node:fs/promises");
      expect(await readdir(outside)).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
      await rm(outside, { recursive: true, force: true });
    }
  });

  it("refuses a path that would leave the folder", () => {
    const fs = new NodeFileSystem("/tmp/wsync-root");
    for (const path of ["..", "../x", "a/../../x", "a//b", "/etc/passwd", "a\\..\\b"]) {
      expect(() => fs.resolve(path)).toThrow(/refusing path/);
    }
    expect(fs.resolve("a/b.txt")).toBe("/tmp/wsync-root/a/b.txt");
  });

  it("does not move a local file that changed since the scan", async () => {
    const fs = new MemoryFileSystem();
    fs.writeFile("a.txt", "as scanned");
    const scanned = { ...localEntry("a.txt", "as scanned"), ...(await fs.lstat("a.txt")) } as ReturnType<
      typeof localEntry
    >;
    fs.writeFile("a.txt", "edited after the scan!");
    const action = {
      type: "pull" as const,
      fileId: "f",
      remote: { ...remote("b.txt", null, [hashOf("as scanned")]), isFolder: false },
      from: scanned,
      to: "b.txt",
      content: false,
    };
    await expect(applyPull(context(fs), action)).rejects.toBeInstanceOf(StaleLocalStateError);
    expect(new TextDecoder().decode(fs.readFile("a.txt"))).toBe("edited after the scan!");
  });

  it("stops a local delete at a file that changed, or at a new file in the folder", async () => {
    const fs = new MemoryFileSystem();
    fs.mkdirp("d");
    fs.writeFile("d/old.txt", "old");
    const scannedFile = { ...localEntry("d/old.txt", "old"), ...(await fs.lstat("d/old.txt")) } as ReturnType<
      typeof localEntry
    >;
    const scannedFolder = { ...localEntry("d", null), ...(await fs.lstat("d")) } as ReturnType<
      typeof localEntry
    >;
    fs.writeFile("d/new.txt", "created after the scan");
    const action = {
      type: "deleteLocal" as const,
      fileId: "id-d",
      path: "d",
      expected: [scannedFile, scannedFolder],
    };
    await expect(applyDeleteLocal(context(fs), action)).rejects.toBeInstanceOf(StaleLocalStateError);
    expect(fs.list().map(([path]) => path)).toEqual(["d", "d/new.txt"]);
  });

  it.skipIf(process.platform === "win32")(
    "a change of the executable bit alone is a chmod: no request, the same bytes",
    async () => {
      const fs = new MemoryFileSystem();
      fs.writeFile("run.sh", "echo");
      const scanned = { ...localEntry("run.sh", "echo"), ...(await fs.lstat("run.sh")) } as ReturnType<
        typeof localEntry
      >;
      const action = {
        type: "pull" as const,
        fileId: "id-run.sh",
        remote: { ...remote("run.sh", null, [hashOf("echo")]), isFolder: false, size: 4, executable: true },
        from: scanned,
        to: "run.sh",
        content: true,
      };
      await applyPull(context(fs), action);
      expect((await fs.lstat("run.sh"))?.mode).toBe(0o755);
      expect(new TextDecoder().decode(fs.readFile("run.sh"))).toBe("echo");
      expect(store.synced.get("id-run.sh")).toMatchObject({ executable: true, mode: 0o755, version: 2 });
    },
  );

  it.skipIf(process.platform === "win32")(
    "a pull that only moves a file keeps a local chmod not sent yet as a change (local half unknown)",
    async () => {
      const fs = new MemoryFileSystem();
      fs.writeFile("a.sh", "echo", 0o755);
      const scanned = { ...localEntry("a.sh", "echo"), ...(await fs.lstat("a.sh")) } as ReturnType<
        typeof localEntry
      >;
      const action = {
        type: "pull" as const,
        fileId: "id-b.sh",
        remote: { ...remote("b.sh", null, [hashOf("echo")]), isFolder: false, size: 4, executable: false },
        from: scanned,
        to: "b.sh",
        content: false,
      };
      await applyPull(context(fs), action);
      expect((await fs.lstat("b.sh"))?.mode).toBe(0o755);
      expect(store.synced.get("id-b.sh")).toMatchObject({ executable: false, mode: 0 });
    },
  );
});
