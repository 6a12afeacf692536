import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type ChunkHash, chunkHashFromDigest, isChunkHash } from "@wsync/shared-protocol";
import type { ChunkSource } from "./downloader.ts";
import { PIECE_BYTES } from "./range-body.ts";

/**
 * Chunks of files this engine removed or replaced (a remote delete, an older version overwritten),
 * kept in the state folder up to a byte budget, oldest out first: restoring a deleted file or going
 * back to an older version then downloads nothing already seen here.
 */
export class ChunkCache {
  /** Insertion order is eviction order. */
  private readonly entries = new Map<ChunkHash, number>();
  private bytes = 0;

  private constructor(
    private readonly dir: string,
    readonly maxBytes: number,
  ) {}

  static async open(dir: string, maxBytes: number): Promise<ChunkCache> {
    await mkdir(dir, { recursive: true });
    const cache = new ChunkCache(dir, maxBytes);
    const found: Array<{ hash: ChunkHash; size: number; mtimeMs: number }> = [];
    for (const name of await readdir(dir)) {
      const hash = `sha256:${name}`;
      if (!isChunkHash(hash)) {
        await rm(join(dir, name), { force: true }); // a temporary file left by a crash
        continue;
      }
      const info = await stat(join(dir, name)).catch(() => null);
      if (info) found.push({ hash, size: info.size, mtimeMs: info.mtimeMs });
    }
    for (const entry of found.sort((a, b) => a.mtimeMs - b.mtimeMs)) {
      cache.entries.set(entry.hash, entry.size);
      cache.bytes += entry.size;
    }
    await cache.evict();
    return cache;
  }

  private pathOf(hash: ChunkHash): string {
    return join(this.dir, hash.slice("sha256:".length));
  }

  has(hash: ChunkHash): boolean {
    return this.entries.has(hash);
  }

  /** The chunk's bytes, checked against its hash; null when absent or damaged. */
  async read(hash: ChunkHash): Promise<Uint8Array | null> {
    if (!this.entries.has(hash)) return null;
    const bytes = await readFile(this.pathOf(hash)).catch(() => null);
    if (bytes && chunkHashFromDigest(createHash("sha256").update(bytes).digest()) === hash) return bytes;
    await this.remove(hash);
    return null;
  }

  /** The chunk's bytes a piece at a time (checked by the reader, who calls `mismatched`). */
  source(hash: ChunkHash): ChunkSource {
    return {
      pieces: () => createReadStream(this.pathOf(hash), { highWaterMark: PIECE_BYTES }),
      mismatched: () => this.remove(hash),
    };
  }

  async put(hash: ChunkHash, bytes: Uint8Array): Promise<void> {
    if (this.entries.has(hash) || bytes.length > this.maxBytes) return;
    const temporary = join(this.dir, `tmp-${randomBytes(6).toString("hex")}`);
    await writeFile(temporary, bytes);
    await rename(temporary, this.pathOf(hash));
    this.entries.set(hash, bytes.length);
    this.bytes += bytes.length;
    await this.evict();
  }

  private async remove(hash: ChunkHash): Promise<void> {
    const size = this.entries.get(hash);
    if (size === undefined) return;
    this.entries.delete(hash);
    this.bytes -= size;
    await rm(this.pathOf(hash), { force: true });
  }

  private async evict(): Promise<void> {
    for (const hash of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) return;
      await this.remove(hash);
    }
  }
}
