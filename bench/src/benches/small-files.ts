import { readdir, readFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import pLimit from "p-limit";
import type { BenchConfig } from "../config.ts";
import { startDevices } from "../devices.ts";
import { createSyncEngine, type SyncEngine, type SyncEngineOptions } from "../engine.ts";
import { type BenchResult, type ResultRow, row } from "../report.ts";
import { s3Client, startStackProcess } from "../stacks.ts";
import { summarize } from "../stats.ts";
import { makeWorkspace } from "../workspace.ts";

type CreateEngine = (options: SyncEngineOptions) => SyncEngine;

async function seconds(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return (performance.now() - started) / 1000;
}

/** The engine of another checkout (BENCH_BASELINE_ENGINE: its extension/src/engine folder), or none. */
async function baselineEngine(folder: string): Promise<CreateEngine | null> {
  if (!folder) return null;
  const module = (await import(pathToFileURL(join(resolve(folder), "engine.ts")).href)) as {
    createSyncEngine: CreateEngine;
  };
  return module.createSyncEngine;
}

/** One engine's first sync of a fresh workspace of `files` small files, in files per second. */
async function firstSync(
  stack: { apiUrl: string; notifierUrl: string },
  create: CreateEngine,
  files: number,
  seed: string,
): Promise<number> {
  const session = await startDevices(stack, 1, {}, create);
  try {
    const [device] = session.devices as [(typeof session.devices)[number]];
    // A seed per run: chunks another run already stored would make the server answer "exists".
    await makeWorkspace(device.folder, files, seed);
    const took = await seconds(() => device.engine.start());
    const status = device.engine.status();
    if (status.lastError) throw new Error(`first sync failed: ${status.lastError.message}`);
    if (status.transfers.chunksUploaded < files * 0.99)
      throw new Error(`only ${status.transfers.chunksUploaded} of ${files} files' chunks were uploaded`);
    return files / took;
  } finally {
    await session.close();
  }
}

/** The same kind of files PUT straight to the store with the AWS SDK, `parallel` at a time. */
async function rawPut(client: S3Client, bucket: string, folder: string, parallel: number): Promise<number> {
  const limit = pLimit(parallel);
  const paths = (await readdir(folder, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
  const took = await seconds(() =>
    Promise.all(
      paths.map((path) =>
        limit(async () =>
          client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: `raw/${relative(folder, path)}`,
              Body: await readFile(path),
            }),
          ),
        ),
      ),
    ),
  );
  return paths.length / took;
}

/**
 * First sync of many small files: the engine from start() to idle on the local stack (in a process of
 * its own), beside the same files PUT straight to the store. With BENCH_BASELINE_ENGINE set, an older
 * build of the engine runs interleaved with this one, round by round, so both see the same load.
 */
export async function run(config: BenchConfig): Promise<BenchResult> {
  const baseline = await baselineEngine(config.baselineEngine);
  const contenders: { label: string; create: CreateEngine }[] = [
    { label: "engine", create: createSyncEngine },
    ...(baseline ? [{ label: "baseline engine", create: baseline }] : []),
  ];
  const stack = await startStackProcess("local");
  const client = s3Client(stack);
  const rows: ResultRow[] = [];
  const problems: string[] = [];
  try {
    for (const files of config.smallFileCounts) {
      const rates = new Map<string, number[]>(contenders.map((c) => [c.label, []]));
      const raw: number[] = [];
      for (let round = 0; round < config.smallFileRepeats; round++) {
        for (const contender of contenders) {
          const seed = `small-${files}-${round}-${contender.label}`;
          const rate = await firstSync(stack, contender.create, files, seed).catch((error) => {
            problems.push(`${contender.label}, ${files} files: ${error}`);
            return null;
          });
          if (rate !== null) rates.get(contender.label)?.push(rate);
        }
        const session = await startDevices(stack, 1);
        try {
          const folder = (session.devices[0] as { folder: string }).folder;
          await makeWorkspace(folder, files, `small-raw-${files}-${round}`);
          raw.push(await rawPut(client, stack.s3.bucket, folder, 4));
        } finally {
          await session.close();
        }
      }
      const count = files.toLocaleString("en-US");
      const engineRates = rates.get("engine") ?? [];
      if (engineRates.length > 0) {
        rows.push(
          row(
            `engine first sync of ${count} small files`,
            "files/s",
            summarize(engineRates),
            { label: "raw SDK PutObject of such files, 4 at a time", figure: summarize(raw) },
            { higherIsBetter: true },
          ),
        );
      }
      const before = rates.get("baseline engine") ?? [];
      if (engineRates.length > 0 && before.length > 0) {
        rows.push(
          row(
            `engine first sync of ${count} small files`,
            "files/s",
            summarize(engineRates),
            { label: `baseline engine (${config.baselineEngine})`, figure: summarize(before) },
            { higherIsBetter: true },
          ),
        );
      }
    }
  } finally {
    client.destroy();
    await stack.close();
  }
  return {
    id: "small-files",
    title: "6b. First sync of many small files",
    setup: `Fresh workspaces of ${config.smallFileCounts.map((n) => n.toLocaleString("en-US")).join(" and ")} files of 100 B to 8 KiB, 100 to a folder (bench/src/workspace.ts), each synced by a new device of a new account (default options: 4 transfers at a time) from start() to idle, on the local stack in a process of its own; ${config.smallFileRepeats} round(s)${baseline ? ", the contenders interleaved in each" : ""}.`,
    rows,
    problems,
  };
}
