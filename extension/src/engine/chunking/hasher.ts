import { createHash, type Hash } from "node:crypto";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/**
 * SHA-256 of consecutive chunks of one stream. Blocks are handed over (the hasher may move them to
 * another thread), each with the chunk ends that fall inside it; the digests come back in order.
 */
export interface HashStream {
  /**
   * A buffer of `size` bytes to read the next block into: recycled when possible, since allocating
   * (and first touching) megabytes per block costs as much as hashing them. A caller may hold two
   * unwritten buffers at once (it reads one block ahead), never more.
   */
  acquire(size: number): Uint8Array;
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
      acquire: (size) => {
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

// Plain JavaScript evaluated in the worker, so it runs the same under tsx, vitest and a bundle.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const jobs = new Map();
parentPort.on("message", (message) => {
  if (message.type === "end") { jobs.delete(message.job); return; }
  let hash = jobs.get(message.job) || createHash("sha256");
  const block = new Uint8Array(message.buffer, message.byteOffset, message.length);
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
  // The buffer goes back to be read into again.
  parentPort.postMessage({ job: message.job, seq: message.seq, digests, buffer: message.buffer }, [message.buffer]);
});
`;

interface Pending {
  resolve: () => void;
}

interface WorkerSlot {
  worker: Worker;
  load: number;
}

/**
 * Hashes in worker threads so reading and cut-point search on the main thread overlap with SHA-256.
 * One stream stays on one worker (a hash state cannot move); streams of different files spread out.
 */
export class WorkerHasher implements ChunkHasher {
  private readonly slots: WorkerSlot[];
  private readonly handlers = new Map<number, (digests: Uint8Array[], seq: number) => void>();
  private readonly pool: ArrayBuffer[] = [];
  private nextJob = 1;

  constructor(
    threads = Math.max(1, availableParallelism() - 1),
    private readonly maxInFlight = 4,
  ) {
    this.slots = Array.from({ length: threads }, () => {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.unref();
      worker.on(
        "message",
        (message: { job: number; seq: number; digests: Uint8Array[]; buffer: ArrayBuffer }) => {
          // Enough to keep every stream's blocks in flight plus one read ahead; more only holds memory.
          if (this.pool.length < this.maxInFlight + 2) this.pool.push(message.buffer);
          this.handlers.get(message.job)?.(message.digests, message.seq);
        },
      );
      return { worker, load: 0 };
    });
  }

  begin(): HashStream {
    const slot = this.slots.reduce((best, candidate) => (candidate.load < best.load ? candidate : best));
    slot.load++;
    const job = this.nextJob++;
    const results: Uint8Array[][] = [];
    let sent = 0;
    let received = 0;
    let failed: Error | undefined;
    const waiting: Pending[] = [];
    let onDrained: (() => void) | undefined;
    const onError = (error: Error) => {
      failed = error;
      for (const pending of waiting.splice(0)) pending.resolve();
      onDrained?.();
    };
    slot.worker.once("error", onError);
    this.handlers.set(job, (digests, seq) => {
      results[seq] = digests.map((digest) => new Uint8Array(digest));
      received++;
      if (sent - received < this.maxInFlight) waiting.shift()?.resolve();
      if (received === sent) onDrained?.();
    });
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.handlers.delete(job);
      slot.worker.off("error", onError);
      slot.worker.postMessage({ type: "end", job });
      slot.load--;
    };
    return {
      acquire: (size) => {
        const index = this.pool.findIndex((buffer) => buffer.byteLength >= size);
        const buffer = index >= 0 ? (this.pool.splice(index, 1)[0] as ArrayBuffer) : new ArrayBuffer(size);
        return new Uint8Array(buffer, 0, size);
      },
      write: async (block, cuts) => {
        if (failed) throw failed;
        // The whole buffer moves to the worker (no copy) unless the block is a view into a larger one
        // that did not come from `acquire`.
        const movable = block.byteOffset === 0 && block.buffer instanceof ArrayBuffer;
        const data = movable ? block : block.slice();
        const buffer = data.buffer as ArrayBuffer;
        slot.worker.postMessage(
          { type: "data", job, seq: sent++, buffer, byteOffset: 0, length: data.length, cuts: [...cuts] },
          [buffer],
        );
        if (sent - received >= this.maxInFlight) {
          await new Promise<void>((resolve) => waiting.push({ resolve }));
        }
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
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }
}
