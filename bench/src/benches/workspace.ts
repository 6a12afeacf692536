import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import pLimit from "p-limit";
import type { BenchConfig } from "../config.ts";
import { startDevices } from "../devices.ts";
import { IgnoreRules, NodeFileSystem, Scanner, WorkerHasher } from "../engine.ts";
import { type BenchResult, row } from "../report.ts";
import { s3Client, startStackProcess } from "../stacks.ts";
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
    const idle = await idleEngine(config).catch((error) => {
      problems.push(`idle engine: ${error}`);
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

/** The real engine on the local stack: first sync of a smaller workspace, then idle CPU. */
async function idleEngine(config: BenchConfig) {
  // In a process of its own, so this process's CPU time is the engine's alone.
  const stack = await startStackProcess("local");
  const client = s3Client(stack);
  try {
    const session = await startDevices(stack, 1, { watch: true, notifications: true });
    try {
      const [device] = session.devices as [(typeof session.devices)[number]];
      const files = config.idleFiles;
      await makeWorkspace(device.folder, files, "idle");
      // The floor first, before the engine ever ran in this process: measured after it stopped, the
      // tail of its shutdown (worker threads ending, garbage of the first sync) showed up instead.
      const baselineMs = config.idleBaselineSeconds * 1000;
      const baseline = await cpuOver(baselineMs);
      const syncSeconds = await seconds(() => device.engine.start());
      const status = device.engine.status();
      if (status.lastError) throw new Error(`first sync failed: ${status.lastError.message}`);
      // Reference: the same bytes PUT straight to the same store with the AWS SDK, 4 at a time.
      const limit = pLimit(4);
      const { readdir, readFile } = await import("node:fs/promises");
      const paths = (await readdir(device.folder, { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name));
      const rawSeconds = await seconds(() =>
        Promise.all(
          paths.map((path) =>
            limit(async () =>
              client.send(
                new PutObjectCommand({
                  Bucket: stack.s3.bucket,
                  Key: `raw/${relative(device.folder, path)}`,
                  Body: await readFile(path),
                }),
              ),
            ),
          ),
        ),
      );
      // The notifier echoes the sync's own changes back: let the engine catch up with them first.
      await device.engine.syncNow();
      await sleep(2_000);
      const ms = config.idleSeconds * 1000;
      const engineCpu = await cpuOver(ms);
      const perMinute = (cpu: number, over: number) => (cpu / over) * 60_000;
      return {
        setup: `Idle: the engine (watcher and notifier socket on) after its first sync of ${files.toLocaleString("en-US")} such files to the local stack (in another process; the sync took ${syncSeconds.toFixed(0)} s), CPU time of this process (the engine alone) over ${config.idleSeconds} s, beside this process over ${config.idleBaselineSeconds} s before the engine started (both per minute).`,
        rows: [
          row(
            `engine first sync of ${files.toLocaleString("en-US")} small files (local stack)`,
            "files/s",
            summarize([files / syncSeconds]),
            {
              label: "raw SDK PutObject of the same files, 4 at a time",
              figure: summarize([files / rawSeconds]),
            },
            { higherIsBetter: true },
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
        ],
      };
    } finally {
      await session.close();
    }
  } finally {
    client.destroy();
    await stack.close();
  }
}
