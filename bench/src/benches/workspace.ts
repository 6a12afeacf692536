import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchConfig } from "../config.ts";
import { startDevices } from "../devices.ts";
import {
  createSyncEngine,
  IgnoreRules,
  NodeFileSystem,
  Scanner,
  type SyncEngine,
  WorkerHasher,
} from "../engine.ts";
import { type BenchResult, row } from "../report.ts";
import { startStackProcess } from "../stacks.ts";
import { summarize } from "../stats.ts";
import { makeWorkspace, plainWalk } from "../workspace.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function seconds(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return (performance.now() - started) / 1000;
}

/** CPU time (user + system) of this process over `ms`, in milliseconds. */
async function cpuOver(ms: number): Promise<number> {
  const before = process.cpuUsage();
  await sleep(ms);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/** The engine's scanner as the engine builds it (default concurrency 4, hashing in a worker). */
function newScanner(root: string, hasher: WorkerHasher): Scanner {
  return new Scanner(new NodeFileSystem(root), new IgnoreRules(), { hasher, concurrency: 4 });
}

/**
 * (6) A big workspace. First scan: the engine's Scanner reading and hashing every file, beside a plain
 * walk that reads and SHA-256es each file. Restart with nothing changed: a Scanner seeded with what
 * the last scan knew (as the engine seeds it from its state store) rescanning, beside a plain lstat
 * walk. Idle CPU: the whole engine (watcher and notifier socket on) after syncing a workspace, beside
 * the same process with the stack alone over the same time.
 */
export async function run(config: BenchConfig): Promise<BenchResult> {
  const files = config.workspaceFiles;
  const root = await mkdtemp(join(tmpdir(), "wsync-bench-workspace-"));
  const hasher = new WorkerHasher();
  const problems: string[] = [];
  try {
    // Idle first: after the big scans, collecting their garbage landed in the engine's idle window.
    const idle = await syncedEngine(config).catch((error) => {
      problems.push(`synced engine: ${error}`);
      return null;
    });
    const createSeconds = await seconds(() => makeWorkspace(root, files));
    const first: number[] = [];
    const firstRef: number[] = [];
    const restart: number[] = [];
    const restartRef: number[] = [];
    let entries = 0;
    for (let round = 0; round < config.workspaceRepeats; round++) {
      const scanner = newScanner(root, hasher);
      first.push(await seconds(() => scanner.fullScan()));
      entries = scanner.entries.size;
      firstRef.push(await seconds(() => plainWalk(root, "hash")));
      const restarted = newScanner(root, hasher);
      restarted.seed(scanner.entries.values());
      restart.push(await seconds(() => restarted.fullScan()));
      restartRef.push(await seconds(() => plainWalk(root, "lstat")));
    }
    const rows = [
      row("first scan (Scanner: read + FastCDC + SHA-256 of every file)", "s", summarize(first), {
        label: "plain walk + read + SHA-256",
        figure: summarize(firstRef),
      }),
      row("restart, nothing changed (seeded Scanner, lstat only)", "s", summarize(restart), {
        label: "plain lstat walk",
        figure: summarize(restartRef),
      }),
    ];
    if (idle) rows.push(...idle.rows);
    return {
      id: "workspace",
      title: "6. A 100,000-file workspace",
      setup: `${files.toLocaleString("en-US")} files of 100 B to 8 KiB in ${Math.ceil(files / 100)} folders (${entries.toLocaleString("en-US")} entries scanned; made in ${createSeconds.toFixed(0)} s), page cache warm, ${config.workspaceRepeats} rounds. ${idle?.setup ?? ""}`,
      rows,
      problems,
    };
  } finally {
    await hasher.close();
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * The real engine on the local stack, on a whole workspace of `idleFiles` files: its first sync, idle CPU
 * after it, and a restart of the whole engine (a new engine on the same state store) with nothing
 * changed.
 */
async function syncedEngine(config: BenchConfig) {
  // In a process of its own, so this process's CPU time is the engine's alone.
  const stack = await startStackProcess("local");
  let restarted: SyncEngine | undefined;
  try {
    const session = await startDevices(stack, 1, { watch: true, notifications: true });
    try {
      const [device] = session.devices as [(typeof session.devices)[number]];
      const files = config.idleFiles;
      await makeWorkspace(device.folder, files, "idle", config.idleDistinct);
      // The floor first, before the engine ever ran in this process: measured after it stopped, the
      // tail of its shutdown (worker threads ending, garbage of the first sync) showed up instead.
      const baselineMs = config.idleBaselineSeconds * 1000;
      const baseline = await cpuOver(baselineMs);
      const syncSeconds = await seconds(() => device.engine.start());
      failIfBroken(device.engine, "first sync");
      const hashWalkSeconds = await seconds(() => plainWalk(device.folder, "hash"));
      // The notifier echoes the sync's own changes back: let the engine catch up with them first.
      await device.engine.syncNow();
      await sleep(2_000);
      // Then V8 collects the sync's garbage once the process is quiet (its memory reducer, some 10 to
      // 40 s later; ~0.5 s of CPU at 20,000 files): whether that fell into the idle window decided the
      // idle figure (0.01 to 1.8 s per minute across runs). It is measured on its own, before.
      const settleMs = config.idleSettleSeconds * 1000;
      const settleCpu = await cpuOver(settleMs);
      const ms = config.idleSeconds * 1000;
      const engineCpu = await cpuOver(ms);
      await device.engine.stop();
      restarted = createSyncEngine(device.options);
      const engine = restarted;
      const restartSeconds = await seconds(() => engine.start());
      failIfBroken(engine, "restart");
      const uploadedOnRestart = engine.status().transfers.bytesUploaded;
      const lstatWalkSeconds = await seconds(() => plainWalk(device.folder, "lstat"));
      const perMinute = (cpu: number, over: number) => (cpu / over) * 60_000;
      const count = files.toLocaleString("en-US");
      return {
        setup: `Engine: a new device (watcher and notifier socket on) syncs a workspace of ${count} such files to the local stack (in another process); the files have ${config.idleDistinct.toLocaleString("en-US")} distinct contents, so the sync PUTs that many chunks and the rest is metadata (6b measures distinct files). Idle: CPU time of this process (the engine alone) over ${config.idleSeconds} s, from ${config.idleSettleSeconds + 2} s after the sync and one syncNow, beside this process over ${config.idleBaselineSeconds} s before the engine started (both per minute); the ${config.idleSettleSeconds} s before the idle window (V8 collecting the sync's garbage) are a row of their own. Restart: the engine stopped and a new one started on the same folder and state store, timed to idle (${uploadedOnRestart} bytes uploaded by it).`,
        rows: [
          row(`engine first sync of ${count} files (local stack)`, "s", summarize([syncSeconds]), {
            label: "plain walk + read + SHA-256 of the same files",
            figure: summarize([hashWalkSeconds]),
          }),
          row(
            `CPU in the ${config.idleSettleSeconds} s after the sync (once: V8 collecting the sync's garbage)`,
            "CPU ms",
            summarize([settleCpu]),
            {
              label: "same process before the engine started, over as long",
              figure: summarize([(baseline / baselineMs) * settleMs]),
            },
          ),
          row(
            "idle CPU, engine running (watcher + notifier socket)",
            "CPU ms/min",
            summarize([perMinute(engineCpu, ms)]),
            {
              label: "same process before the engine started",
              figure: summarize([perMinute(baseline, baselineMs)]),
            },
          ),
          row(
            "restart of the whole engine, nothing changed (state store, changes feed, scan, watcher)",
            "s",
            summarize([restartSeconds]),
            { label: "plain lstat walk", figure: summarize([lstatWalkSeconds]) },
          ),
        ],
      };
    } finally {
      await restarted?.stop().catch(() => {});
      await session.close();
    }
  } finally {
    await stack.close();
  }
}

function failIfBroken(engine: SyncEngine, what: string): void {
  const status = engine.status();
  if (status.lastError) throw new Error(`${what} failed: ${status.lastError.message}`);
  if (status.deferred.length > 0) throw new Error(`${what} left ${status.deferred.length} items deferred`);
}
