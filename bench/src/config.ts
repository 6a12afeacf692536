import { cpus, freemem, loadavg, totalmem } from "node:os";

const env = process.env;
const quick = env.BENCH_QUICK === "1";
const MiB = 1024 * 1024;

function number(name: string, full: number, smoke: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return quick ? smoke : full;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return value;
}

/**
 * Every size and count of the suite, from the environment. BENCH_QUICK=1 shrinks them all for a
 * smoke run of a minute or two; any single one can be set on its own.
 */
export const config = {
  quick,
  /** (1) bytes chunked and hashed, and how many timed runs of each contender. */
  chunkHashBytes: number("BENCH_CHUNK_HASH_MIB", 1024, 64) * MiB,
  chunkHashRepeats: number("BENCH_CHUNK_HASH_REPEATS", 3, 2),
  /** (2) the file that is edited. */
  editFileBytes: number("BENCH_EDIT_FILE_MIB", 512, 32) * MiB,
  /** (3) samples per file size. */
  latencySizes: (env.BENCH_LATENCY_SIZES ?? (quick ? "1024,1048576" : "1024,1048576,104857600"))
    .split(",")
    .map(Number),
  latencySamplesSmall: number("BENCH_LATENCY_SAMPLES", 30, 10),
  latencySamplesLarge: number("BENCH_LATENCY_SAMPLES_LARGE", 5, 3),
  /** (4) concurrent clients and seconds per autocannon run. */
  apiConnections: number("BENCH_API_CONNECTIONS", 64, 16),
  apiSeconds: number("BENCH_API_SECONDS", 5, 2),
  apiRepeats: number("BENCH_API_REPEATS", 3, 1),
  apiBatchSize: number("BENCH_API_BATCH", 100, 100),
  /** (5) the big first sync. */
  firstSyncBytes: number("BENCH_FIRST_SYNC_MB", 5000, 64) * 1_000_000,
  firstSyncRepeats: number("BENCH_FIRST_SYNC_REPEATS", 1, 1),
  /** (6) the workspace. */
  workspaceFiles: number("BENCH_WORKSPACE_FILES", 100_000, 2_000),
  workspaceRepeats: number("BENCH_WORKSPACE_REPEATS", 2, 1),
  idleSeconds: number("BENCH_IDLE_SECONDS", 60, 5),
  /**
   * Files the engine first syncs before idling and restarting: the whole workspace. Its contents repeat
   * (`idleDistinct` distinct ones), so the sync uploads that many chunks and the rest is metadata; a
   * first sync of 100,000 distinct small files (6b's case) would not fit the suite's 20 minutes.
   */
  idleFiles: number("BENCH_IDLE_FILES", 100_000, 2_000),
  idleDistinct: number("BENCH_IDLE_DISTINCT", 1_000, 100),
  /** (6b) first sync of many small files: the counts, rounds, and an older engine to compare with. */
  smallFileCounts: (env.BENCH_SMALL_FILES ?? "1000").split(",").map(Number),
  smallFileRepeats: number("BENCH_SMALL_FILES_REPEATS", 1, 1),
  baselineEngine: env.BENCH_BASELINE_ENGINE ?? "",
  /** The same process with the engine stopped: a shorter window, normalized per minute. */
  idleBaselineSeconds: number("BENCH_IDLE_BASELINE_SECONDS", 15, 5),
  /** Quiet time after the sync before the idle window: V8 collects the sync's garbage in it. */
  idleSettleSeconds: number("BENCH_IDLE_SETTLE_SECONDS", 45, 10),
  /** (7) passed on to the notifier's own benchmark. */
  notifierConnections: number("BENCH_CONNECTIONS", 10_000, 500),
  notifierFanout: number("BENCH_FANOUT", 1_000, 100),
  notifierLatencySamples: number("BENCH_LATENCY_SAMPLES_NOTIFIER", 1_000, 50),
  notifierFanoutRounds: number("BENCH_FANOUT_ROUNDS", 30, 5),
};

export type BenchConfig = typeof config;

export function machine() {
  const list = cpus();
  return {
    cpu: list[0]?.model ?? "unknown",
    cores: list.length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    freeMemoryGiB: Math.round(freemem() / 1024 ** 3),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: loadavg().map((value) => Number(value.toFixed(2))),
  };
}
