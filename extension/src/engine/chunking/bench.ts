/**
 * Chunk-and-hash throughput on this machine, against SHA-256 alone (the yardstick).
 * Run: npx tsx extension/src/engine/chunking/bench.ts [MiB]   (default 1024). Not a test: timings
 * vary with the machine and its load, so nothing here asserts them.
 */
import { createHash, randomFillSync } from "node:crypto";
import { open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeFileSystem } from "../fs/node-fs.ts";
import { chunkFile } from "./chunk-file.ts";
import { DEFAULT_CHUNKING } from "./chunker.ts";
import { FastCdc } from "./fastcdc.ts";
import { WorkerHasher } from "./hasher.ts";

const mib = Number(process.argv[2] ?? 1024);
const bytes = mib * 1024 * 1024;
const name = `wsync-bench-${process.pid}.bin`;
const path = join(tmpdir(), name);

// Written in 16 MiB pieces so the benchmark itself stays small in memory. A plain Uint8Array, like
// the engine's blocks: a Buffer here would make the cut-point loop polymorphic and slower below.
const block = new Uint8Array(16 * 1024 * 1024);
const handle = await open(path, "w");
for (let written = 0; written < bytes; written += block.length) {
  for (let offset = 0; offset < block.length; offset += 65536) randomFillSync(block, offset, 65536);
  await handle.write(block, 0, Math.min(block.length, bytes - written));
}
await handle.close();

const rate = (ms: number, unit: string) => `${(bytes / ms / 1e6).toFixed(2)} ${unit}`;
// Wall time moves with the machine's load; CPU time of all the process's threads (workers and libuv's
// pool too) much less, so both are printed.
const time = async (label: string, run: () => Promise<unknown> | unknown) => {
  const rssBefore = process.memoryUsage().rss;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await run();
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const rss = ((process.memoryUsage().rss - rssBefore) / 1e6).toFixed(0);
  const figures = `${rate(ms, "GB/s").padStart(10)} ${rate(cpuMs, "GB/CPU-s").padStart(14)}`;
  console.log(`${label.padEnd(38)} ${figures}   rss +${rss} MB`);
};

await time("SHA-256 alone (16 MiB blocks)", () => {
  const hash = createHash("sha256");
  for (let n = 0; n < bytes; n += block.length) hash.update(block);
  hash.digest();
});
await time("FastCDC cut points alone", () => {
  const cdc = new FastCdc(DEFAULT_CHUNKING.sizes);
  const cuts: number[] = [];
  for (let n = 0; n < bytes; n += block.length) cdc.push(block, cuts);
});
const fs = new NodeFileSystem(tmpdir());
const hasher = new WorkerHasher();
// The way before chunking in parts: the main thread reads and cuts, one worker hashes.
const oneWorker = new WorkerHasher(1);
const streamOnly = { begin: () => oneWorker.begin(), close: () => oneWorker.close() };
for (let round = 0; round < 3; round++) {
  await time("chunkFile: CDC + SHA-256, parts in workers", () => chunkFile(fs, name, { hasher }));
  await time("chunkFile: CDC streamed, 1 hash worker", () => chunkFile(fs, name, { hasher: streamOnly }));
}
await time("chunkFile: CDC + SHA-256 inline", () => chunkFile(fs, name));
await time("chunkFile: fixed 4 MiB + workers", () =>
  chunkFile(fs, name, { hasher, chunking: { mode: "fixed", sizes: DEFAULT_CHUNKING.sizes } }),
);
await hasher.close();
await oneWorker.close();
await rm(path, { force: true });
