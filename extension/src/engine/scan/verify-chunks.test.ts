import { randomBytes } from "node:crypto";
import { mkdtemp, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chunkFile } from "../chunking/chunk-file.ts";
import type { ChunkingOptions } from "../chunking/chunker.ts";
import { type ChunkHasher, InlineHasher } from "../chunking/hasher.ts";
import { NodeFileSystem } from "../fs/node-fs.ts";
import { IgnoreRules } from "./ignore-rules.ts";
import { RACY_WINDOW_MS, Scanner } from "./scanner.ts";
import { verifyChunks } from "./verify-chunks.ts";

/** Small chunks, so a few KiB make several of them. */
const chunking: ChunkingOptions = { mode: "cdc", sizes: { min: 256, avg: 1024, max: 4096 } };

let folder: string;
let fs: NodeFileSystem;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "wsync-verify-"));
  fs = new NodeFileSystem(folder);
});
afterAll(() => rm(folder, { recursive: true, force: true }));

/** Writes the bytes and pins the mtime (as a second write in the same tick would leave it). */
async function writePinned(name: string, bytes: Uint8Array, mtimeMs: number): Promise<void> {
  await writeFile(join(folder, name), bytes);
  await utimes(join(folder, name), new Date(mtimeMs), new Date(mtimeMs));
}

describe("verifyChunks", () => {
  it("confirms a file holding exactly its chunks, and refuses any other bytes of the same size", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 12_000 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (bytes, at, flip) => {
          const mtimeMs = Math.floor(Date.now() / 1000) * 1000;
          await writePinned("file.bin", bytes, mtimeMs);
          const { chunks, stat: before } = await chunkFile(fs, "file.bin", { chunking });
          expect(await verifyChunks(fs, "file.bin", chunks, before)).toMatchObject({ size: bytes.length });
          if (bytes.length === 0) return;
          const changed = Uint8Array.from(bytes);
          changed[at % bytes.length] = ((changed[at % bytes.length] as number) + flip) % 256;
          await writePinned("file.bin", changed, mtimeMs);
          expect((await fs.lstat("file.bin"))?.mtimeMs).toBe(before.mtimeMs);
          expect(await verifyChunks(fs, "file.bin", chunks, before)).toBeNull();
        },
      ),
      { numRuns: 60 },
    );
  });

  it("refuses a file that grew, or whose stat is not the one the chunks were known with", async () => {
    const mtimeMs = Math.floor(Date.now() / 1000) * 1000;
    const bytes = randomBytes(9000);
    await writePinned("grown.bin", bytes, mtimeMs);
    const { chunks, stat: known } = await chunkFile(fs, "grown.bin", { chunking });
    await writePinned("grown.bin", Buffer.concat([bytes, Buffer.from("x")]), mtimeMs);
    expect(await verifyChunks(fs, "grown.bin", chunks, { ...known, size: known.size + 1 })).toBeNull();
    await writePinned("grown.bin", bytes, mtimeMs + 1000);
    expect(await verifyChunks(fs, "grown.bin", chunks, known)).toBeNull();
  });
});

/** A hasher that counts the streams it begins: a file cut and hashed again begins one. */
function countingHasher(): ChunkHasher & { begun: number } {
  const inner = new InlineHasher();
  return {
    begun: 0,
    begin() {
      this.begun++;
      return inner.begin();
    },
    close: () => inner.close(),
  };
}

// Above the size hashed on the calling thread whatever the hasher: the scanner's hasher is used.
const LARGE = 600 * 1024;

describe("Scanner: a racily clean file is checked against its chunks, not cut again", () => {
  it("confirms unchanged bytes without cutting, and still finds a same-tick rewrite", async () => {
    const mtimeMs = Math.floor(Date.now() / 1000) * 1000;
    const bytes = randomBytes(LARGE);
    await writePinned("racy.bin", bytes, mtimeMs);
    const hasher = countingHasher();
    const scanner = new Scanner(fs, new IgnoreRules(), { hasher, now: () => mtimeMs + 10 });
    await scanner.rescan(["racy.bin"]);
    const first = scanner.entries.get("racy.bin");
    expect(hasher.begun).toBe(1);
    expect(await scanner.rescan(["racy.bin"])).toBe(false);
    expect(hasher.begun).toBe(1);
    expect(scanner.entries.get("racy.bin")).toEqual(first);
    // The same size, inode and mtime, other bytes: the check fails and the file is cut again.
    const changed = Buffer.from(bytes);
    changed[LARGE / 2] = (changed[LARGE / 2] as number) ^ 0xff;
    await writePinned("racy.bin", changed, mtimeMs);
    expect(await scanner.rescan(["racy.bin"])).toBe(true);
    expect(hasher.begun).toBe(2);
    expect(scanner.entries.get("racy.bin")?.chunks).not.toEqual(first?.chunks);
  });

  it("takes a file the engine wrote with its chunks, checks them on the next visit, and finds a later same-tick write", async () => {
    const mtimeMs = Math.floor(Date.now() / 1000) * 1000;
    const bytes = randomBytes(LARGE);
    await writePinned("written.bin", bytes, mtimeMs);
    const { chunks } = await chunkFile(fs, "written.bin");
    const on = await stat(join(folder, "written.bin"));
    const entry = {
      path: "written.bin",
      kind: "file" as const,
      size: on.size,
      mtimeMs: on.mtimeMs,
      ctimeMs: on.ctimeMs,
      inode: on.ino,
      mode: on.mode & 0o7777,
      chunks,
    };
    const hasher = countingHasher();
    const scanner = new Scanner(fs, new IgnoreRules(), { hasher, now: () => mtimeMs + RACY_WINDOW_MS - 1 });
    scanner.learnWritten([{ entry, knownAt: mtimeMs }]);
    await scanner.rescan(["written.bin"]);
    expect(hasher.begun).toBe(0);
    expect(scanner.entries.get("written.bin")?.chunks).toEqual(chunks);
    const changed = Buffer.from(bytes);
    changed[0] = (changed[0] as number) ^ 0xff;
    await writePinned("written.bin", changed, mtimeMs);
    await scanner.rescan(["written.bin"]);
    expect(hasher.begun).toBe(1);
    expect(scanner.entries.get("written.bin")?.chunks).not.toEqual(chunks);
  });
});
