import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchConfig } from "../config.ts";
import { writeSeededFile } from "../data.ts";
import { chunkFile, cutPoints, DEFAULT_CHUNKING, NodeFileSystem, WorkerHasher } from "../engine.ts";
import { type BenchResult, row } from "../report.ts";
import { summarize } from "../stats.ts";

const GB = 1e9;

async function seconds(run: () => Promise<unknown> | unknown): Promise<number> {
  return (await timed(run)).wall;
}

/** Wall seconds, and CPU seconds of every thread of this process (workers and libuv's pool too). */
async function timed(run: () => Promise<unknown> | unknown): Promise<{ wall: number; cpu: number }> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await run();
  const wall = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { wall, cpu: (cpu.user + cpu.system) / 1e6 };
}

function sha256sum(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("sha256sum", [path], { stdio: ["ignore", "ignore", "inherit"] });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`sha256sum exited with ${code}`)),
    );
  });
}

/**
 * (1) The engine's chunkFile on a file in the page cache: one part of the file per worker thread
 * (one per core), each worker reading its part in 1 MiB blocks into its own WebAssembly memory,
 * cutting it with FastCDC 1/4/16 MiB (gear loop in WebAssembly) and hashing each chunk with SHA-256,
 * the parts joined where their cuts meet (extension/src/engine/chunking/parts.ts);
 * beside plain SHA-256 of the same bytes already in memory (Node's crypto, one call) and beside
 * `sha256sum` reading the same file.
 * The contenders take turns in every round, so load from other work spreads over all of them.
 */
export async function run(config: BenchConfig): Promise<BenchResult> {
  const size = config.chunkHashBytes;
  const dir = await mkdtemp(join(tmpdir(), "wsync-bench-hash-"));
  const hasher = new WorkerHasher();
  try {
    await writeSeededFile(join(dir, "data.bin"), size, "chunk-hash");
    const bytes = await readFile(join(dir, "data.bin"));
    const fs = new NodeFileSystem(dir);
    const engine: number[] = [];
    const plain: number[] = [];
    const coreutils: number[] = [];
    const cdcOnly: number[] = [];
    const engineCpu: number[] = [];
    const plainCpu: number[] = [];
    let chunks = 0;
    // One unrecorded round warms the page cache, the worker and the JIT.
    for (let round = -1; round < config.chunkHashRepeats; round++) {
      const e = await timed(async () => {
        chunks = (await chunkFile(fs, "data.bin", { hasher })).chunks.length;
      });
      const p = await timed(() => createHash("sha256").update(bytes).digest());
      const s = await seconds(() => sha256sum(join(dir, "data.bin")));
      const c = await seconds(() => cutPoints(bytes, DEFAULT_CHUNKING));
      if (round < 0) continue;
      engine.push(size / e.wall / GB);
      plain.push(size / p.wall / GB);
      engineCpu.push(size / e.cpu / GB);
      plainCpu.push(size / p.cpu / GB);
      coreutils.push(size / s / GB);
      cdcOnly.push(size / c / GB);
    }
    const plainRef = { label: "Node SHA-256 of the buffer", figure: summarize(plain) };
    const engineRow = row(
      "engine chunkFile (FastCDC + SHA-256, in parts on worker threads)",
      "GB/s",
      summarize(engine),
      plainRef,
      {
        higherIsBetter: true,
      },
    );
    engineRow.goal = {
      text: "engine throughput at least 0.75 of plain SHA-256",
      met: (engineRow.ratio ?? 0) >= 0.75,
    };
    return {
      id: "chunk-hash",
      title: "1. Chunk and hash",
      setup: `${(size / 2 ** 30).toFixed(2)} GiB of incompressible bytes in one file (page cache); ${chunks} chunks; ${config.chunkHashRepeats} timed rounds after one warm-up, contenders interleaved. Worker threads: ${(await import("node:os")).availableParallelism()} (one part of the file each).`,
      rows: [
        engineRow,
        row(
          "engine chunkFile",
          "GB/s",
          summarize(engine),
          { label: "sha256sum of the file", figure: summarize(coreutils) },
          {
            higherIsBetter: true,
          },
        ),
        row(
          "FastCDC cut points alone (WebAssembly gear loop; buffer, no hashing)",
          "GB/s",
          summarize(cdcOnly),
          plainRef,
          { higherIsBetter: true },
        ),
        // On a busy machine the engine's threads share the CPU its process gets with everything
        // else, so its wall-clock ratio sinks toward this one: the work it does per byte.
        row(
          "engine chunkFile, bytes per CPU-second of all its threads",
          "GB/CPU-s",
          summarize(engineCpu),
          { label: "Node SHA-256 of the buffer, per CPU-second", figure: summarize(plainCpu) },
          { higherIsBetter: true },
        ),
      ],
    };
  } finally {
    await hasher.close();
    await rm(dir, { recursive: true, force: true });
  }
}
