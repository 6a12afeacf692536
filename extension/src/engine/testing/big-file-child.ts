/**
 * A device in its own process, for the bounded-memory test: it syncs its folder once (start +
 * syncNow, default chunking, hashing in a worker) and prints one JSON line with its peak resident
 * memory, so the parent measures the engine alone, not the test runner or the servers.
 * WSYNC_MEMORY_TRACE=1 also writes a sample every 50 ms to stderr (resident, anonymous and file-backed
 * memory, V8 heap, ArrayBuffers): where the memory goes, not only how much.
 */
import { readFileSync } from "node:fs";
import { createSyncEngine, type SyncEngineOptions } from "../engine.ts";
import { enableGarbagePacing, pacerCost } from "../transfer/garbage-pacer.ts";

const options = JSON.parse(process.argv[2] as string) as SyncEngineOptions;
const trace = Boolean(process.env.WSYNC_MEMORY_TRACE);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

/**
 * Resident memory now, in bytes: anonymous (this process's own: heaps, buffers, stacks) and
 * file-backed (mostly the node executable's code, shared with every other node process).
 */
function resident(): { anon: number; file: number; threads: number } {
  const status = readFileSync("/proc/self/status", "utf8");
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  const threads = Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { anon: kib("RssAnon"), file: kib("RssFile"), threads };
}

// A device process of its own, as the CLI runs one: it may pace V8's collections.
enableGarbagePacing();
const engine = createSyncEngine(options);
let peakHeap = 0;
let peakExternal = 0;
let peakAnon = 0;
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  const { anon, file, threads } = resident();
  peakHeap = Math.max(peakHeap, usage.heapUsed);
  peakExternal = Math.max(peakExternal, usage.external + usage.arrayBuffers);
  peakAnon = Math.max(peakAnon, anon);
  if (trace)
    process.stderr.write(
      `memory ${Math.round(performance.now())} ms: rss ${mib(usage.rss)} (anon ${mib(anon)}, file ${mib(file)}), ` +
        `heap ${mib(usage.heapUsed)}/${mib(usage.heapTotal)}, external ${mib(usage.external)}, arrayBuffers ${mib(usage.arrayBuffers)} MiB, ${threads} threads\n`,
    );
}, 50);

// The peak before the first transfer is the scan's (chunk and hash); what comes after, the transfer's.
let scanPeakRssBytes: number | null = null;
engine.on("transfer", () => {
  scanPeakRssBytes ??= process.resourceUsage().maxRSS * 1024;
});
await engine.start();
await engine.syncNow();
const status = engine.status();
await engine.stop();
clearInterval(sampler);
process.stdout.write(
  `${JSON.stringify({
    state: status.state,
    lastError: status.lastError,
    transfers: status.transfers,
    // ru_maxrss: the process's peak resident set (all threads, the hashing worker's included), in KiB.
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    scanPeakRssBytes,
    peakAnonBytes: peakAnon,
    fileBackedAtEndBytes: resident().file,
    peakHeapBytes: peakHeap,
    peakExternalBytes: peakExternal,
    // The process's CPU time (user + system, all threads): what a change to the transfers costs.
    collections: pacerCost(),
    cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
  })}\n`,
);
