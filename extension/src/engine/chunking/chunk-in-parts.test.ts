import { randomBytes } from "node:crypto";
import { mkdtemp, open, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeFileSystem } from "../fs/node-fs.ts";
import { chunkBytes, chunkFile } from "./chunk-file.ts";
import type { ChunkingOptions } from "./chunker.ts";
import { type ChunkHasher, WorkerHasher } from "./hasher.ts";

const scaled: ChunkingOptions = { mode: "cdc", sizes: { min: 4096, avg: 16 * 1024, max: 64 * 1024 } };
// Three real worker threads, and parts from 64 KiB up, so a file of a few MiB is chunked in parts.
const hasher = new WorkerHasher(3, 4, { minPartBytes: 64 * 1024 });
// Fails a file that chunkFile streams instead: these tests are about the parts.
const partsOnly: ChunkHasher = {
  begin: () => {
    throw new Error("streamed, not chunked in parts");
  },
  chunkInParts: (fd, size, sizes) => hasher.chunkInParts(fd, size, sizes),
  close: async () => {},
};
let dir: string;
let fs: NodeFileSystem;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wsync-parts-"));
  fs = new NodeFileSystem(dir);
});
afterAll(async () => {
  await hasher.close();
  await rm(dir, { recursive: true, force: true });
});

describe("chunkFile in parts on worker threads (real files)", () => {
  it("gives exactly the chunks of one sequential run", async () => {
    const data = randomBytes(2_800_001);
    await writeFile(join(dir, "random.bin"), data);
    const result = await chunkFile(fs, "random.bin", { chunking: scaled, hasher: partsOnly });
    expect(result.size).toBe(data.length);
    expect(result.chunks).toEqual(await chunkBytes(data, scaled));
  });

  it("gives them too around a long run of one byte value, which the parts may cut out of step", async () => {
    const data = Buffer.concat([randomBytes(1_500_000), Buffer.alloc(400_000, 9), randomBytes(900_001)]);
    await writeFile(join(dir, "mixed.bin"), data);
    const result = await chunkFile(fs, "mixed.bin", { chunking: scaled, hasher });
    expect(result.chunks).toEqual(await chunkBytes(data, scaled));
  });

  it("streams the rest from the last true cut when the parts never meet", async () => {
    // One byte value throughout: every part cuts every 64 KiB from its own start, out of step.
    const data = Buffer.alloc(1_000_003, 7);
    await writeFile(join(dir, "same.bin"), data);
    const handle = await open(join(dir, "same.bin"));
    try {
      const prefix = await hasher.chunkInParts(handle.fd, data.length, scaled.sizes);
      expect(prefix?.ends.at(-1)).toBeLessThan(data.length);
    } finally {
      await handle.close();
    }
    const result = await chunkFile(fs, "same.bin", { chunking: scaled, hasher });
    expect(result.chunks).toEqual(await chunkBytes(data, scaled));
  });

  it("answers null when the file ends before the size it had (it changed while read)", async () => {
    await writeFile(join(dir, "shrinks.bin"), randomBytes(2_000_000));
    const handle = await open(join(dir, "shrinks.bin"));
    try {
      await truncate(join(dir, "shrinks.bin"), 1_000_000);
      expect(await hasher.chunkInParts(handle.fd, 2_000_000, scaled.sizes)).toBeNull();
    } finally {
      await handle.close();
    }
  });
});
