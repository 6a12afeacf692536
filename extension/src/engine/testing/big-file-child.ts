/**
 * A device in its own process, for the bounded-memory test: it syncs its folder once (start +
 * syncNow, default chunking, hashing in a worker) and prints one JSON line with its peak resident
 * memory, so the parent measures the engine alone, not the test runner or the servers.
 */
import { readFileSync } from "node:fs";
import { createSyncEngine, type SyncEngineOptions } from "../engine.ts";

const options = JSON.parse(process.argv[2] as string) as SyncEngineOptions;

/** Resident memory now (VmRSS), in bytes; the kernel's own peak is read at the end. */
function residentBytes(): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return match ? Number(match[1]) * 1024 : process.memoryUsage().rss;
}

let peakHeap = 0;
let peakExternal = 0;
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  peakHeap = Math.max(peakHeap, usage.heapUsed);
  peakExternal = Math.max(peakExternal, usage.external + usage.arrayBuffers);
}, 50);

const engine = createSyncEngine(options);
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
    rssAtEndBytes: residentBytes(),
    peakHeapBytes: peakHeap,
    peakExternalBytes: peakExternal,
  })}\n`,
);
