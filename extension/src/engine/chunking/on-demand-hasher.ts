import type { ChunkSizes } from "./chunker.ts";
import type { ChunkHasher, HashStream } from "./hasher.ts";
import type { FileChunks } from "./parts.ts";

/**
 * A hasher made when a scan first needs one and dropped by `release` once the scan is over: between
 * scans (transfers, idle) the engine holds no hashing thread and no block ring. A worker hasher holds
 * its threads (~13 MiB for the first) and, once it has streamed a file, 8 MiB of shared ring the
 * whole time it lives, which put an upload of a big file over the 100 MB; starting one again
 * costs a few tens of milliseconds per scan that reads a large file (small files are hashed on the
 * calling thread anyway).
 */
export class OnDemandHasher implements ChunkHasher {
  private current: ChunkHasher | undefined;
  private open = 0;

  constructor(private readonly make: () => ChunkHasher) {}

  begin(): HashStream {
    this.current ??= this.make();
    const stream = this.current.begin();
    this.open++;
    let ended = false;
    const end = () => {
      if (!ended) this.open--;
      ended = true;
    };
    return {
      acquire: (size) => stream.acquire(size),
      tryAcquire: (size) => stream.tryAcquire(size),
      write: (block, cuts) => stream.write(block, cuts),
      finish: () => stream.finish().finally(end),
      abort: () => {
        end();
        stream.abort();
      },
    };
  }

  async chunkInParts(fd: number, size: number, sizes: ChunkSizes): Promise<FileChunks | null | undefined> {
    this.current ??= this.make();
    this.open++;
    try {
      return await this.current.chunkInParts?.(fd, size, sizes);
    } finally {
      this.open--;
    }
  }

  /** Drops the hasher when no stream is open (a stream still running keeps it until the next call). */
  async release(): Promise<void> {
    if (this.open > 0 || !this.current) return;
    const hasher = this.current;
    this.current = undefined;
    await hasher.close();
  }

  close(): Promise<void> {
    const hasher = this.current;
    this.current = undefined;
    return hasher?.close() ?? Promise.resolve();
  }
}
