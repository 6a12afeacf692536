import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chunkHashFromDigest } from "@wsync/shared-protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChunkCache } from "./chunk-cache.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "wsync-cache-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const chunk = (text: string) => {
  const bytes = new TextEncoder().encode(text);
  return { bytes, hash: chunkHashFromDigest(createHash("sha256").update(bytes).digest()) };
};

describe("ChunkCache", () => {
  it("keeps chunks across a restart and gives back exactly their bytes", async () => {
    const a = chunk("alpha");
    const cache = await ChunkCache.open(dir, 1000);
    await cache.put(a.hash, a.bytes);
    const again = await ChunkCache.open(dir, 1000);
    expect(again.has(a.hash)).toBe(true);
    expect(await again.read(a.hash)).toEqual(Buffer.from(a.bytes));
  });

  it("stays within its budget, dropping the oldest first", async () => {
    const cache = await ChunkCache.open(dir, 12);
    const [a, b, c] = [chunk("aaaaa"), chunk("bbbbb"), chunk("ccccc")];
    await cache.put(a.hash, a.bytes);
    await cache.put(b.hash, b.bytes);
    await cache.put(c.hash, c.bytes);
    expect([cache.has(a.hash), cache.has(b.hash), cache.has(c.hash)]).toEqual([false, true, true]);
    expect(await readdir(dir)).toHaveLength(2);
  });

  it("never returns damaged bytes, and forgets them", async () => {
    const a = chunk("alpha");
    const cache = await ChunkCache.open(dir, 1000);
    await cache.put(a.hash, a.bytes);
    await writeFile(join(dir, a.hash.slice("sha256:".length)), "tampered");
    expect(await cache.read(a.hash)).toBeNull();
    expect(cache.has(a.hash)).toBe(false);
  });
});
