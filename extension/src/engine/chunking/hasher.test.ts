import { createHash, randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryFileSystem } from "../fs/memory-fs.ts";
import { chunkBytes, chunkFile } from "./chunk-file.ts";
import type { ChunkingOptions } from "./chunker.ts";
import { WorkerHasher } from "./hasher.ts";

const scaled: ChunkingOptions = { mode: "cdc", sizes: { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 } };
// A ring of three 64 KiB slots for two threads: streams must wait for each other's slots to come back.
const hasher = new WorkerHasher(2, 2, { blockBytes: 64 * 1024, ringBlocks: 3 });
afterAll(() => hasher.close());

describe("WorkerHasher's shared ring", () => {
  it("hashes many files at once through a ring smaller than their blocks in flight, each one right", async () => {
    const fs = new MemoryFileSystem();
    const files = Array.from({ length: 6 }, (_, index) => randomBytes(600 * 1024 + index * 7919));
    for (const [index, data] of files.entries()) fs.writeFile(`f${index}`, data);
    const results = await Promise.all(
      files.map((_, index) => chunkFile(fs, `f${index}`, { chunking: scaled, hasher })),
    );
    for (const [index, data] of files.entries())
      expect(results[index]?.chunks).toEqual(await chunkBytes(data, scaled));
  });

  it("gives a stream's slots back when it is aborted, so later streams still get blocks", async () => {
    for (let round = 0; round < 5; round++) {
      const stream = hasher.begin();
      await stream.acquire(64 * 1024);
      await stream.acquire(64 * 1024);
      stream.abort();
    }
    const stream = hasher.begin();
    const blocks = [await stream.acquire(1000), await stream.acquire(1000), await stream.acquire(1000)];
    for (const block of blocks) block.set(randomBytes(1000));
    const whole = Buffer.concat(blocks);
    for (const block of blocks) await stream.write(block, []);
    await stream.write(new Uint8Array(0), [0]);
    const [digest] = await stream.finish();
    expect(Buffer.from(digest as Uint8Array)).toEqual(createHash("sha256").update(whole).digest());
  });

  it("takes a block larger than a slot outside the ring", async () => {
    const stream = hasher.begin();
    const block = await stream.acquire(200 * 1024);
    block.set(randomBytes(block.length));
    const expected = createHash("sha256").update(block).digest();
    await stream.write(block, [block.length]);
    expect(Buffer.from((await stream.finish())[0] as Uint8Array)).toEqual(expected);
  });
});
