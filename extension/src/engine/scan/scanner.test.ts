import { createHash } from "node:crypto";
import { chmod, mkdtemp, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MemoryFileSystem } from "../fs/memory-fs.ts";
import { NodeFileSystem } from "../fs/node-fs.ts";
import type { FileSystem } from "../fs/types.ts";
import { IgnoreRules } from "./ignore-rules.ts";
import { RACY_WINDOW_MS, Scanner } from "./scanner.ts";

/** Counts file reads: the scanner's promise is to read only what changed. */
function countingReads(fs: MemoryFileSystem): { fs: FileSystem; reads: string[] } {
  const reads: string[] = [];
  const counting: FileSystem = Object.create(fs, {
    openRead: {
      value: (path: string) => {
        reads.push(path);
        return fs.openRead(path);
      },
    },
  });
  return { fs: counting, reads };
}

function tree(scanner: Scanner): string[] {
  return [...scanner.entries.values()].map((entry) => `${entry.kind}:${entry.path}`).sort();
}

describe("Scanner", () => {
  it("lists files and folders with their chunks, never .git, ignored paths or symlinks (reported)", async () => {
    const fs = new MemoryFileSystem();
    fs.mkdirp(".git/refs/heads");
    fs.writeFile(".git/refs/heads/main", "abc");
    fs.mkdirp("src/node_modules/x");
    fs.writeFile("src/node_modules/x/i.js", "x");
    fs.writeFile("src/a.ts", "export {}");
    fs.writeFile(".gitignore", "node_modules/\n*.log\n");
    fs.writeFile("debug.log", "noise");
    fs.writeFile("empty.txt", "");
    fs.symlink("link");
    const scanner = new Scanner(fs, new IgnoreRules());
    await scanner.fullScan();
    expect(tree(scanner)).toEqual(["file:.gitignore", "file:empty.txt", "file:src/a.ts", "folder:src"]);
    expect(scanner.entries.get("src/a.ts")?.chunks).toHaveLength(1);
    expect(scanner.entries.get("empty.txt")?.chunks).toEqual([]);
    expect([...scanner.skipped.values()]).toEqual([{ path: "link", reason: "symlink" }]);
  });

  it("does not read unchanged files again, nor a renamed one", async () => {
    const memory = new MemoryFileSystem();
    memory.mkdirp("docs");
    memory.writeFile("docs/a.md", "alpha");
    memory.writeFile("b.md", "beta");
    const { fs, reads } = countingReads(memory);
    const scanner = new Scanner(fs, new IgnoreRules());
    await scanner.fullScan();
    expect(reads.sort()).toEqual(["b.md", "docs/a.md"]);
    reads.length = 0;
    expect(await scanner.fullScan()).toBe(false);
    expect(reads).toEqual([]);
    await memory.rename("docs", "notes");
    expect(await scanner.fullScan()).toBe(true);
    expect(reads).toEqual([]);
    expect(tree(scanner)).toEqual(["file:b.md", "file:notes/a.md", "folder:notes"]);
    memory.writeFile("b.md", "beta, edited");
    await scanner.rescan(["b.md"]);
    expect(reads).toEqual(["b.md"]);
  });

  it("a restart seeded with known content reads nothing when nothing changed", async () => {
    const memory = new MemoryFileSystem();
    memory.writeFile("a", "1");
    memory.writeFile("b", "2");
    const first = new Scanner(memory, new IgnoreRules());
    await first.fullScan();
    const { fs, reads } = countingReads(memory);
    const restarted = new Scanner(fs, new IgnoreRules());
    restarted.seed(first.entries.values());
    memory.writeFile("b", "two");
    await restarted.fullScan();
    expect(reads).toEqual(["b"]);
  });

  it("drops a deleted subtree on an incremental rescan and finds a new folder's files", async () => {
    const fs = new MemoryFileSystem();
    fs.mkdirp("a/b");
    fs.writeFile("a/b/c.txt", "c");
    const scanner = new Scanner(fs, new IgnoreRules());
    await scanner.fullScan();
    await fs.rename("a", "z");
    fs.mkdirp("n/m");
    fs.writeFile("n/m/x.txt", "x");
    await scanner.rescan(["a", "z", "n/m/x.txt"]);
    expect(tree(scanner)).toEqual([
      "file:n/m/x.txt",
      "file:z/b/c.txt",
      "folder:n",
      "folder:n/m",
      "folder:z",
      "folder:z/b",
    ]);
  });

  it("applies a changed .gitignore to the whole tree", async () => {
    const fs = new MemoryFileSystem();
    fs.mkdirp("out");
    fs.writeFile("out/a.js", "a");
    fs.writeFile("keep.txt", "k");
    const scanner = new Scanner(fs, new IgnoreRules());
    await scanner.fullScan();
    fs.writeFile(".gitignore", "out/\n");
    await scanner.rescan([".gitignore"]);
    expect(tree(scanner)).toEqual(["file:.gitignore", "file:keep.txt"]);
  });
});

describe("Scanner: a change of mode alone (chmod)", () => {
  it("records the new mode of an unchanged file, without reading it again", async () => {
    const memory = new MemoryFileSystem();
    memory.writeFile("run.sh", "#!/bin/sh\n");
    const { fs, reads } = countingReads(memory);
    const scanner = new Scanner(fs, new IgnoreRules());
    await scanner.fullScan();
    const before = scanner.entries.get("run.sh");
    reads.length = 0;
    await memory.chmod("run.sh", 0o755);
    expect(await scanner.rescan(["run.sh"])).toBe(true);
    expect(scanner.entries.get("run.sh")).toMatchObject({ mode: 0o755, chunks: before?.chunks });
    await memory.chmod("run.sh", 0o644);
    expect(await scanner.fullScan()).toBe(true);
    expect(scanner.entries.get("run.sh")?.mode).toBe(0o644);
    expect(await scanner.fullScan()).toBe(false);
    expect(reads).toEqual([]);
  });

  it("finds a chmod made while the engine was stopped, after a seeded restart", async () => {
    const memory = new MemoryFileSystem();
    memory.writeFile("tool", "bytes");
    const first = new Scanner(memory, new IgnoreRules());
    await first.fullScan();
    await memory.chmod("tool", 0o755);
    const { fs, reads } = countingReads(memory);
    const restarted = new Scanner(fs, new IgnoreRules());
    restarted.seed(first.entries.values());
    expect(await restarted.fullScan()).toBe(true);
    expect(restarted.entries.get("tool")?.mode).toBe(0o755);
    expect(reads).toEqual([]);
  });

  it.skipIf(process.platform === "win32")(
    "on a real disk, where chmod leaves size and mtime as they were",
    async () => {
      const folder = await mkdtemp(join(tmpdir(), "wsync-chmod-"));
      try {
        const path = join(folder, "build.sh");
        const mtimeMs = Math.floor(Date.now() / 1000) * 1000 - 60_000;
        await writeFile(path, "echo build\n", { mode: 0o644 });
        await utimes(path, new Date(mtimeMs), new Date(mtimeMs));
        const scanner = new Scanner(new NodeFileSystem(folder), new IgnoreRules());
        await scanner.fullScan();
        expect((scanner.entries.get("build.sh")?.mode ?? 0) & 0o100).toBe(0);
        await chmod(path, 0o755);
        expect((await stat(path)).mtimeMs).toBe(mtimeMs);
        expect(await scanner.rescan(["build.sh"])).toBe(true);
        expect(scanner.entries.get("build.sh")?.mode).toBe(0o755);
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    },
  );
});

describe("Scanner on a real disk: racily clean files", () => {
  /** Writes `content` and pins the file's mtime to `mtimeMs` (as a second write in the same tick would). */
  async function writePinned(path: string, content: string, mtimeMs: number): Promise<void> {
    await writeFile(path, content);
    await utimes(path, new Date(mtimeMs), new Date(mtimeMs));
  }

  async function scanTwice(mtimeMs: number, now: () => number) {
    const folder = await mkdtemp(join(tmpdir(), "wsync-racy-"));
    try {
      const path = join(folder, "notes.txt");
      await writePinned(path, "first", mtimeMs);
      const scanner = new Scanner(new NodeFileSystem(folder), new IgnoreRules(), { now });
      await scanner.fullScan();
      const first = scanner.entries.get("notes.txt")?.chunks[0]?.hash;
      // Same size, same inode, same mtime: only the bytes differ.
      await writePinned(path, "other", mtimeMs);
      expect((await stat(path)).mtimeMs).toBe(mtimeMs);
      await scanner.fullScan();
      return { first, second: scanner.entries.get("notes.txt")?.chunks[0]?.hash };
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }

  it("reads a file again when it was read within the racy window of its mtime, so a same-tick rewrite is found", async () => {
    const mtimeMs = Math.floor(Date.now() / 1000) * 1000; // whole seconds: exact through utimes
    const { first, second } = await scanTwice(mtimeMs, () => mtimeMs + RACY_WINDOW_MS - 1);
    expect(second).not.toBe(first);
    expect(second).toBe(`sha256:${createHash("sha256").update("other").digest("hex")}`);
  });

  it("trusts the stat of a file read well after its mtime (no second read)", async () => {
    const mtimeMs = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const { first, second } = await scanTwice(mtimeMs, () => mtimeMs + 60_000);
    expect(second).toBe(first);
  });
});
