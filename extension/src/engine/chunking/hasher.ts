import { createHash, type Hash } from "node:crypto";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { createScanRing, type ScanRing } from "./gear-scan-wasm.ts";

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
  /** Resolves once the hasher is ready for more: in-flight memory stays bounded. */
  write(block: Uint8Array, cuts: readonly number[]): Promise<void>;
  finish(): Promise<Uint8Array[]>;
  abort(): void;
}

export interface ChunkHasher {
  begin(): HashStream;
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
    return {
      acquire: async (size) => {
        turn ^= 1;
        if ((buffers[turn] as ArrayBuffer).byteLength < size) buffers[turn] = new ArrayBuffer(size);
        return new Uint8Array(buffers[turn] as ArrayBuffer, 0, size);
      },
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

// Plain JavaScript evaluated in the worker, so it runs the same under tsx, vitest and a bundle. Blocks
// arrive as a slot of the shared ring (no copy, nothing to send back but digests) or, for a block
// that is not in the ring, as a transferred buffer.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const jobs = new Map();
let ring;
parentPort.on("message", (message) => {
  if (message.type === "ring") { ring = new Uint8Array(message.ring); return; }
  if (message.type === "end") { jobs.delete(message.job); return; }
  let hash = jobs.get(message.job) || createHash("sha256");
  const block = message.buffer
    ? new Uint8Array(message.buffer, 0, message.length)
    : ring.subarray(message.byteOffset, message.byteOffset + message.length);
  const digests = [];
  let start = 0;
  for (const cut of message.cuts) {
    hash.update(block.subarray(start, cut));
    digests.push(hash.digest());
    hash = createHash("sha256");
    start = cut;
  }
  if (start < block.length) hash.update(block.subarray(start));
  jobs.set(message.job, hash);
  parentPort.postMessage({ job: message.job, seq: message.seq, digests, slot: message.slot });
});
`;

export interface WorkerHasherOptions {
  /** Bytes of one block slot: chunkFile's reads of this size or less go straight into shared memory. */
  blockBytes?: number;
  /** Block slots shared by every stream: the hasher's whole block memory is blockBytes x ringBlocks. */
  ringBlocks?: number;
}

/** 1 MiB blocks hash as fast as 4 MiB ones here (measured) and keep the ring small. */
export const WORKER_BLOCK_BYTES = 1024 * 1024;

interface WorkerSlot {
  worker: Worker;
  load: number;
  /** Ring slots of blocks sent to this worker and not answered yet: freed if it dies. */
  busy: Set<number>;
}

/**
 * Hashes in worker threads so reading and cut-point search on the main thread overlap with SHA-256.
 * One stream stays on one worker (a hash state cannot move); streams of different files spread out.
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
  private readonly ring: ScanRing;
  readonly blockBytes: number;
  private readonly free: number[] = [];
  private readonly slotWaiters: Array<(slot: number) => void> = [];
  /** Buffers `acquire` made outside the ring (a block larger than a slot): moved, not copied. */
  private readonly loose = new WeakSet<ArrayBufferLike>();
  private nextJob = 1;

  constructor(
    private readonly threads = Math.max(1, availableParallelism() - 1),
    private readonly maxInFlight = 4,
    options: WorkerHasherOptions = {},
  ) {
    this.blockBytes = options.blockBytes ?? WORKER_BLOCK_BYTES;
    // Enough for every stream's blocks in flight and one read ahead; more only holds memory.
    const ringBlocks = options.ringBlocks ?? maxInFlight + 4;
    this.ring = createScanRing(this.blockBytes * ringBlocks);
    for (let slot = 0; slot < ringBlocks; slot++) this.free.push(slot);
  }

  private workers(): WorkerSlot[] {
    this.slots ??= Array.from({ length: this.threads }, () => {
      // The worker only hashes: a small heap is plenty, and its default young generation alone
      // would reserve megabytes of the process's resident memory.
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
      });
      worker.unref();
      const slot: WorkerSlot = { worker, load: 0, busy: new Set() };
      worker.postMessage({ type: "ring", ring: this.ring.memory.buffer });
      worker.on("message", (message: { job: number; seq: number; digests: Uint8Array[]; slot: number }) => {
        if (message.slot >= 0) {
          slot.busy.delete(message.slot);
          this.release(message.slot);
        }
        this.handlers.get(message.job)?.(message.digests, message.seq);
      });
      // A dead worker answers nothing more: its slots are free again (nobody reads them any more).
      worker.on("error", () => {
        for (const busy of slot.busy) this.release(busy);
        slot.busy.clear();
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
    return {
      acquire: async (size) => {
        if (size > this.blockBytes) {
          const buffer = new ArrayBuffer(size);
          this.loose.add(buffer);
          return new Uint8Array(buffer);
        }
        const index = await this.takeSlot();
        if (released) {
          this.release(index);
          throw failed ?? new Error("hash stream already ended");
        }
        held.add(index);
        return this.ring.bytes.subarray(index * this.blockBytes, index * this.blockBytes + size);
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

  async close(): Promise<void> {
    await Promise.all((this.slots ?? []).map((slot) => slot.worker.terminate()));
  }
}
