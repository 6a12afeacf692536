import { createHash, randomBytes } from "node:crypto";
import { chunkHashFromDigest } from "@wsync/shared-protocol";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryFileSystem } from "../fs/memory-fs.ts";
import type { FileSystem } from "../fs/types.ts";
import { chunkBytes, chunkFile, FileUnstableError } from "./chunk-file.ts";
import type { ChunkingOptions } from "./chunker.ts";
import { type ChunkHasher, InlineHasher, WorkerHasher } from "./hasher.ts";

const scaled: ChunkingOptions = { mode: "cdc", sizes: { min: 64 * 1024, avg: 256 * 1024, max: 1024 * 1024 } };
const hasher = new WorkerHasher(2);
afterAll(() => hasher.close());

function sha(data: Uint8Array) {
  return chunkHashFromDigest(createHash("sha256").update(data).digest());
}

describe("chunkFile", () => {
  it("streams a file into chunks whose hashes are the SHA-256 of their bytes", async () => {
    const fs = new MemoryFileSystem();
    const data = randomBytes(5 * 1024 * 1024 + 123);
    fs.writeFile("big.bin", data);
    const result = await chunkFile(fs, "big.bin", { chunking: scaled, blockSize: 300 * 1024, hasher });
    expect(result.size).toBe(data.length);
    expect(result.chunks.length).toBeGreaterThan(5);
    let offset = 0;
    for (const chunk of result.chunks) {
      expect(chunk.offset).toBe(offset);
      expect(chunk.hash).toBe(sha(data.subarray(chunk.offset, chunk.offset + chunk.size)));
      offset += chunk.size;
    }
    expect(offset).toBe(data.length);
  });

  it("gives the same chunks in worker threads, inline, and from memory, whatever the block size", async () => {
    const fs = new MemoryFileSystem();
    const data = randomBytes(3 * 1024 * 1024);
    fs.writeFile("f", data);
    const expected = await chunkBytes(data, scaled);
    for (const blockSize of [4096, 65_537, 1024 * 1024]) {
      expect((await chunkFile(fs, "f", { chunking: scaled, blockSize, hasher })).chunks).toEqual(expected);
      expect((await chunkFile(fs, "f", { chunking: scaled, blockSize })).chunks).toEqual(expected);
    }
  });

  it("gives an empty file no chunks and a tiny file one", async () => {
    const fs = new MemoryFileSystem();
    fs.writeFile("empty", "");
    fs.writeFile("tiny", "hello");
    expect((await chunkFile(fs, "empty")).chunks).toEqual([]);
    const tiny = await chunkFile(fs, "tiny");
    expect(tiny.chunks).toEqual([{ hash: sha(new TextEncoder().encode("hello")), offset: 0, size: 5 }]);
  });

  it("reads a file again when it changes while being read, and reports the settled content", async () => {
    const memory = new MemoryFileSystem();
    memory.writeFile("f", "first version of the file");
    let reads = 0;
    // A writer that strikes during the first read only.
    const racing: FileSystem = Object.create(memory, {
      openRead: {
        value: async (path: string) => {
          const handle = await memory.openRead(path);
          const attempt = reads++;
          return {
            ...handle,
            read: async (buffer: Uint8Array, position: number) => {
              const n = await handle.read(buffer, position);
              if (attempt === 0) memory.writeFile("f", "second, longer version of the file");
              return n;
            },
          };
        },
      },
    });
    const result = await chunkFile(racing, "f");
    expect(reads).toBe(2);
    expect(result.chunks[0]?.hash).toBe(sha(new TextEncoder().encode("second, longer version of the file")));
  });

  it("gives up with FileUnstableError on a file that never stops changing", async () => {
    const memory = new MemoryFileSystem();
    memory.writeFile("log", "x");
    let n = 0;
    const busy: FileSystem = Object.create(memory, {
      openRead: {
        value: async (path: string) => {
          const handle = await memory.openRead(path);
          return {
            ...handle,
            read: async (buffer: Uint8Array, position: number) => {
              const read = await handle.read(buffer, position);
              memory.writeFile("log", "x".repeat(++n + 1));
              return read;
            },
          };
        },
      },
    });
    await expect(chunkFile(busy, "log", { attempts: 3 })).rejects.toBeInstanceOf(FileUnstableError);
  });

  it("reads one block ahead, yet closes the file only after that read ends when hashing fails", async () => {
    const memory = new MemoryFileSystem();
    memory.writeFile("f", randomBytes(1024 * 1024));
    const events: string[] = [];
    let pending = 0;
    const slow: FileSystem = Object.create(memory, {
      openRead: {
        value: async (path: string) => {
          const handle = await memory.openRead(path);
          return {
            ...handle,
            read: async (buffer: Uint8Array, position: number) => {
              pending++;
              events.push(`read ${position}`);
              await new Promise((resolve) => setTimeout(resolve, 20));
              pending--;
              return handle.read(buffer, position);
            },
            close: async () => {
              events.push(`close with ${pending} reads pending`);
              await handle.close();
            },
          };
        },
      },
    });
    // A hasher whose second block fails (as a crashed worker's would).
    const inline = new InlineHasher();
    const failing: ChunkHasher = {
      begin: () => {
        const stream = inline.begin();
        let writes = 0;
        return {
          ...stream,
          write: async (block, cuts) => {
            if (++writes === 2) throw new Error("hash worker died");
            await stream.write(block, cuts);
          },
        };
      },
      close: async () => {},
    };
    await expect(
      chunkFile(slow, "f", { chunking: scaled, blockSize: 128 * 1024, hasher: failing }),
    ).rejects.toThrow("hash worker died");
    // Block 2 (at 256 KiB) was being read ahead while block 1 failed to hash.
    expect(events).toEqual(["read 0", "read 131072", "read 262144", "close with 0 reads pending"]);
  });
});
