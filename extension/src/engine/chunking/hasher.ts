import { createHash, type Hash } from "node:crypto";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { ChunkSizes } from "./chunker.ts";
import { fastCdcParameters, GEAR } from "./fastcdc.ts";
import { createScanRing, gearScanModuleBytes, memoryPages, type ScanRing } from "./gear-scan-wasm.ts";
import { HASH_WORKER_SOURCE } from "./hash-worker.ts";
import { type FileChunks, joinParts, type Part, planParts } from "./parts.ts";

/**
 * SHA-256 of consecutive chunks of one stream. Blocks are handed over (the hasher may move them to
 * another thread), each with the chunk ends that fall inside it; the digests come back in order.
 */
export interface HashStream {
  /**
   * A buffer of `size` bytes to read the next block into: recycled, since allocating (and first
   * touching) megabytes per block costs as much as hashing them, and garbage blocks awaiting a GC are
   * what made a big file cost 100 MB more. Waits while the hasher's block memory is all in use. A
   * caller may hold two unwritten buffers at once (it reads one block ahead), never more; every buffer
   * is written, or given back by `finish` or `abort` once no read into it is still running.
   */
  acquire(size: number): Promise<Uint8Array>;
  /**
   * The buffer `acquire` would give, now, when one is free (else undefined), under the same rules.
   * A caller that reads ahead starts its read with it before its own synchronous work: with `acquire`
   * the read waited for a turn of the microtask queue, which came only after the cut-point scan of
   * the block before, so reading and scanning took turns instead of overlapping.
   */
  tryAcquire(size: number): Uint8Array | undefined;
  /** Resolves once the hasher is ready for more: in-flight memory stays bounded. */
  write(block: Uint8Array, cuts: readonly number[]): Promise<void>;
  finish(): Promise<Uint8Array[]>;
  abort(): void;
}

export interface ChunkHasher {
  begin(): HashStream;
  /**
   * Content-defined chunks of an open file, found and hashed by several threads at once, each reading
   * its own part through `fd`: the true chunks from its start, up to the end of the file or, when a
   * part never met the next one (see parts.ts), up to the last true cut, from which the caller
   * streams the rest. Undefined when this hasher does not (one thread, or a file too small to gain).
   * Null when the file ended before `size`.
   */
  chunkInParts?(fd: number, size: number, sizes: ChunkSizes): Promise<FileChunks | null | undefined>;
  close(): Promise<void>;
}

/** Hashes on the calling thread: for small files, tests, and where threads do not pay. */
export class InlineHasher implements ChunkHasher {
  begin(): HashStream {
    let hash: Hash = createHash("sha256");
    const digests: Uint8Array[] = [];
    // Hashing is done before `write` resolves, so two buffers in turn serve every block: one being
    // hashed, one being read ahead.
    const buffers = [new ArrayBuffer(0), new ArrayBuffer(0)];
    let turn = 0;
    const take = (size: number) => {
      turn ^= 1;
      if ((buffers[turn] as ArrayBuffer).byteLength < size) buffers[turn] = new ArrayBuffer(size);
      return new Uint8Array(buffers[turn] as ArrayBuffer, 0, size);
    };
    return {
      acquire: async (size) => take(size),
      tryAcquire: take,
      write: async (block, cuts) => {
        let start = 0;
        for (const cut of cuts) {
          hash.update(block.subarray(start, cut));
          digests.push(hash.digest());
          hash = createHash("sha256");
          start = cut;
        }
        if (start < block.length) hash.update(block.subarray(start));
      },
      finish: async () => digests,
      abort: () => {},
    };
  }

  async close(): Promise<void> {}
}

export interface WorkerHasherOptions {
  /** Bytes of one block slot: chunkFile's reads of this size or less go straight into shared memory. */
  blockBytes?: number;
  /** Block slots shared by every stream: the hasher's whole block memory is blockBytes x ringBlocks. */
  ringBlocks?: number;
  /** A file is chunked in parts when it holds two of these (tests chunk small files in parts). */
  minPartBytes?: number;
}

/** 1 MiB blocks hash as fast as 4 MiB ones here (measured) and keep the ring small. */
export const WORKER_BLOCK_BYTES = 1024 * 1024;
/** Below two of these a file is streamed: the parts' overlap (two maximum chunks) would cost more than a second thread gains. */
const MIN_PART_BYTES = 128 * 1024 * 1024;
/** Bytes a worker reads, scans and hashes at a time when it chunks a part: its whole block memory. */
const PART_BLOCK_BYTES = 1024 * 1024;

interface PartReply {
  job: number;
  ends?: number[];
  digests?: Uint8Array[];
  short?: boolean;
  error?: string;
}

interface WorkerSlot {
  worker: Worker;
  load: number;
  /** Ring slots of blocks sent to this worker and not answered yet: freed if it dies. */
  busy: Set<number>;
}

/**
 * Chunks and hashes in worker threads, two ways.
 * - A big file (`chunkInParts`) is split in one part per worker; each reads, cuts and hashes its part
 *   on its own (parts.ts joins them). The main thread only waits, so every core works on the file,
 *   and each block is read, cut and hashed by one thread while it is in that core's cache: the
 *   stream below hands every block between three threads (read, cut, hash), which costs more CPU
 *   per byte, and its stages cannot share out the cores evenly (docs/benchmarks.md, section 1).
 * - Any other file is streamed (`begin`): the main thread reads and cuts while a worker hashes. One
 *   stream stays on one worker (a hash state cannot move); streams of different files spread out.
 * Blocks are read straight into a fixed ring of shared memory that the workers hash from: bytes are
 * never copied between threads, and however many files are chunked at once, block memory stays the
 * ring's size (a stream waits for a free slot in `acquire`). The ring is WebAssembly memory, so the
 * cut-point search scans each block where it lies too (a copy per block cost ~15 % CPU per byte).
 */
export class WorkerHasher implements ChunkHasher {
  /** Started by the first stream: an engine that only downloads, or idles, pays for no thread. */
  private slots: WorkerSlot[] | undefined;
  private readonly handlers = new Map<number, (digests: Uint8Array[], seq: number) => void>();
  /** Shared memory the cut-point search scans blocks in place in, as the workers hash them there. */
  private ringMemory: ScanRing | undefined;
  private readonly ringBlocks: number;
  readonly blockBytes: number;
  private readonly minPartBytes: number;
  private readonly parts = new Map<
    number,
    { slot: WorkerSlot; settle: (reply: PartReply | Error) => void }
  >();
  private partModule: WebAssembly.Module | undefined;
  private readonly free: number[] = [];
  private readonly slotWaiters: Array<(slot: number) => void> = [];
  /** Buffers `acquire` made outside the ring (a block larger than a slot): moved, not copied. */
  private readonly loose = new WeakSet<ArrayBufferLike>();
  private nextJob = 1;

  constructor(
    // Chunking in parts keeps every core busy with workers (the main thread only waits for them).
    private readonly threads = availableParallelism(),
    private readonly maxInFlight = 4,
    options: WorkerHasherOptions = {},
  ) {
    this.blockBytes = options.blockBytes ?? WORKER_BLOCK_BYTES;
    // Enough for every stream's blocks in flight and one read ahead; more only holds memory.
    this.ringBlocks = options.ringBlocks ?? maxInFlight + 4;
    this.minPartBytes = options.minPartBytes ?? MIN_PART_BYTES;
    for (let slot = 0; slot < this.ringBlocks; slot++) this.free.push(slot);
  }

  /** Made for the first stream: chunking in parts needs none. */
  private get ring(): ScanRing {
    if (!this.ringMemory) {
      this.ringMemory = createScanRing(this.blockBytes * this.ringBlocks);
      for (const slot of this.slots ?? [])
        slot.worker.postMessage({ type: "ring", ring: this.ringMemory.memory.buffer });
    }
    return this.ringMemory;
  }

  private workers(): WorkerSlot[] {
    this.slots ??= Array.from({ length: this.threads }, () => {
      // The worker only hashes: a small heap is plenty, and its default young generation alone
      // would reserve megabytes of the process's resident memory.
      const worker = new Worker(HASH_WORKER_SOURCE, {
        eval: true,
        resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
      });
      worker.unref();
      const slot: WorkerSlot = { worker, load: 0, busy: new Set() };
      if (this.ringMemory) worker.postMessage({ type: "ring", ring: this.ringMemory.memory.buffer });
      worker.on(
        "message",
        (message: { type?: "part"; job: number; seq: number; digests: Uint8Array[]; slot: number }) => {
          if (message.type === "part") {
            this.parts.get(message.job)?.settle(message);
            return;
          }
          if (message.slot >= 0) {
            slot.busy.delete(message.slot);
            this.release(message.slot);
          }
          this.handlers.get(message.job)?.(message.digests, message.seq);
        },
      );
      // A dead worker answers nothing more: its slots are free again (nobody reads them any more).
      worker.on("error", (error) => {
        for (const busy of slot.busy) this.release(busy);
        slot.busy.clear();
        for (const part of this.parts.values()) if (part.slot === slot) part.settle(error);
      });
      // Terminated (closed) mid-part: the part's caller must not wait for an answer that never comes.
      worker.on("exit", () => {
        for (const part of this.parts.values())
          if (part.slot === slot) part.settle(new Error("the hashing worker stopped"));
      });
      return slot;
    });
    return this.slots;
  }

  private release(slot: number): void {
    const waiter = this.slotWaiters.shift();
    if (waiter) waiter(slot);
    else this.free.push(slot);
  }

  private takeSlot(): Promise<number> {
    const slot = this.free.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve) => this.slotWaiters.push(resolve));
  }

  begin(): HashStream {
    const slot = this.workers().reduce((best, candidate) => (candidate.load < best.load ? candidate : best));
    slot.load++;
    const job = this.nextJob++;
    const results: Uint8Array[][] = [];
    /** Ring slots handed out by `acquire` and not written yet. */
    const held = new Set<number>();
    let sent = 0;
    let received = 0;
    let failed: Error | undefined;
    const waiting: Array<() => void> = [];
    let onDrained: (() => void) | undefined;
    const onError = (error: Error) => {
      failed = error;
      for (const resume of waiting.splice(0)) resume();
      onDrained?.();
    };
    slot.worker.once("error", onError);
    this.handlers.set(job, (digests, seq) => {
      results[seq] = digests.map((digest) => new Uint8Array(digest));
      received++;
      if (sent - received < this.maxInFlight) waiting.shift()?.();
      if (received === sent) onDrained?.();
    });
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const index of held) this.release(index);
      held.clear();
      this.handlers.delete(job);
      slot.worker.off("error", onError);
      slot.worker.postMessage({ type: "end", job });
      slot.load--;
    };
    const loose = (size: number) => {
      const buffer = new ArrayBuffer(size);
      this.loose.add(buffer);
      return new Uint8Array(buffer);
    };
    const hold = (index: number, size: number) => {
      held.add(index);
      return this.ring.bytes.subarray(index * this.blockBytes, index * this.blockBytes + size);
    };
    return {
      acquire: async (size) => {
        if (size > this.blockBytes) return loose(size);
        const index = await this.takeSlot();
        if (released) {
          this.release(index);
          throw failed ?? new Error("hash stream already ended");
        }
        return hold(index, size);
      },
      tryAcquire: (size) => {
        if (released) return undefined;
        if (size > this.blockBytes) return loose(size);
        const index = this.free.pop();
        return index === undefined ? undefined : hold(index, size);
      },
      write: async (block, cuts) => {
        if (failed) throw failed;
        const seq = sent++;
        const ring = this.ring.bytes;
        if (block.buffer === ring.buffer) {
          const index = Math.floor((block.byteOffset - ring.byteOffset) / this.blockBytes);
          held.delete(index);
          slot.busy.add(index);
          const message = { type: "data", job, seq, slot: index, byteOffset: block.byteOffset };
          slot.worker.postMessage({ ...message, length: block.length, cuts: [...cuts] });
        } else {
          // Not from the ring: a buffer `acquire` made moves to the worker, any other is copied.
          const own = this.loose.has(block.buffer) && block.byteOffset === 0;
          const buffer = (own ? block.buffer : block.slice().buffer) as ArrayBuffer;
          const message = { type: "data", job, seq, slot: -1, buffer, length: block.length };
          slot.worker.postMessage({ ...message, cuts: [...cuts] }, [buffer]);
        }
        if (sent - received >= this.maxInFlight) await new Promise<void>((resume) => waiting.push(resume));
        if (failed) throw failed;
      },
      finish: async () => {
        if (received < sent && !failed) await new Promise<void>((resolve) => (onDrained = resolve));
        release();
        if (failed) throw failed;
        return results.flat();
      },
      abort: release,
    };
  }

  async chunkInParts(fd: number, size: number, sizes: ChunkSizes): Promise<FileChunks | null | undefined> {
    const count = Math.min(this.threads, Math.floor(size / this.minPartBytes));
    if (count < 2) return undefined;
    const workers = this.workers();
    const parts = planParts(size, count, 2 * sizes.max);
    // Every part settles before this returns, failed or not: the caller closes `fd` after.
    const settled = await Promise.allSettled(
      parts.map((part, index) => this.chunkPart(workers[index] as WorkerSlot, fd, size, sizes, part)),
    );
    const results = settled.map((result) => {
      if (result.status === "rejected") throw result.reason;
      return result.value;
    });
    if (results.includes(null)) return null;
    return joinParts(size, parts, results as FileChunks[]);
  }

  private async chunkPart(
    slot: WorkerSlot,
    fd: number,
    size: number,
    sizes: ChunkSizes,
    part: Part,
  ): Promise<FileChunks | null> {
    const pages = memoryPages(PART_BLOCK_BYTES);
    this.partModule ??= new WebAssembly.Module(gearScanModuleBytes({ pages, shared: false }));
    const job = this.nextJob++;
    slot.load++;
    try {
      const reply = await new Promise<PartReply | Error>((settle) => {
        this.parts.set(job, { slot, settle });
        const parameters = fastCdcParameters(sizes);
        const message = { type: "part", job, fd, size, ...part, parameters, gear: GEAR };
        slot.worker.postMessage({ ...message, module: this.partModule, pages, blockBytes: PART_BLOCK_BYTES });
      });
      if (reply instanceof Error) throw reply;
      if (reply.error !== undefined) throw new Error(reply.error);
      if (reply.short) return null;
      return {
        ends: reply.ends ?? [],
        digests: (reply.digests ?? []).map((digest) => new Uint8Array(digest)),
      };
    } finally {
      this.parts.delete(job);
      slot.load--;
    }
  }

  async close(): Promise<void> {
    await Promise.all((this.slots ?? []).map((slot) => slot.worker.terminate()));
  }
}
