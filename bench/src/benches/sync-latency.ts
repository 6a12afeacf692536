import { watch } from "node:fs";
import { open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { BenchConfig } from "../config.ts";
import { SeededBytes } from "../data.ts";
import { startDevices } from "../devices.ts";
import { type BenchResult, type ResultRow, row } from "../report.ts";
import { type StackKind, s3Client, startStackProcess } from "../stacks.ts";
import { summarize } from "../stats.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MARK = 16;

function label(size: number): string {
  if (size >= 1024 * 1024) return `${size / (1024 * 1024)} MiB`;
  if (size >= 1024) return `${size / 1024} KiB`;
  return `${size} B`;
}

/** Whether `path` holds `size` bytes starting with `mark` (the engine renames complete files into place). */
async function holds(path: string, size: number, mark: Buffer): Promise<boolean> {
  try {
    const handle = await open(path, "r");
    try {
      const stat = await handle.stat();
      if (stat.size !== size) return false;
      const head = Buffer.alloc(MARK);
      await handle.read(head, 0, MARK, 0);
      return head.equals(mark);
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}

/** Resolves with the time `path` first holds the new bytes: on a watcher event, or a 20 ms poll. */
function arrival(
  folder: string,
  name: string,
  size: number,
  mark: Buffer,
  timeoutMs: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let done = false;
    const check = async () => {
      if (done) return;
      if (await holds(join(folder, name), size, mark)) finish(performance.now());
    };
    const watcher = watch(folder, (_event, file) => {
      if (file === name) void check();
    });
    const poll = setInterval(() => void check(), 20);
    const timer = setTimeout(() => {
      finish(Number.NaN);
    }, timeoutMs);
    function finish(at: number) {
      if (done) return;
      done = true;
      watcher.close();
      clearInterval(poll);
      clearTimeout(timer);
      if (Number.isNaN(at)) reject(new Error(`${name} did not arrive within ${timeoutMs / 1000} s`));
      else resolve(at);
    }
  });
}

async function measureStack(
  kind: StackKind,
  config: BenchConfig,
  problems: string[],
): Promise<{ rows: ResultRow[]; describe: string }> {
  const stack = await startStackProcess(kind);
  const client = s3Client(stack);
  const rows: ResultRow[] = [];
  try {
    const session = await startDevices(stack, 2, { watch: true, notifications: true });
    try {
      const [a, b] = session.devices as [(typeof session.devices)[number], (typeof session.devices)[number]];
      await a.engine.start();
      await b.engine.start();
      const source = new SeededBytes(`latency-${kind}`);
      for (const size of config.latencySizes) {
        const samples = size >= 50 * 1024 * 1024 ? config.latencySamplesLarge : config.latencySamplesSmall;
        const name = `latency-${size}.bin`;
        const engine: number[] = [];
        const raw: number[] = [];
        const timeoutMs = Math.round(30_000 + size / 1e5);
        try {
          // One unrecorded round: the file exists on both sides from then on, so samples are edits.
          for (let i = -1; i < samples; i++) {
            const bytes = source.next(size);
            const mark = bytes.subarray(0, MARK);
            const arrived = arrival(b.folder, name, size, Buffer.from(mark), timeoutMs);
            await writeFile(join(a.folder, name), bytes);
            const saved = performance.now();
            const at = await arrived;
            if (i >= 0) engine.push(at - saved);
            // The reference: the same bytes PUT to the same store and read back, with the AWS SDK.
            const started = performance.now();
            const key = `raw/latency-${size}`;
            await client.send(new PutObjectCommand({ Bucket: stack.s3.bucket, Key: key, Body: bytes }));
            const got = await client.send(new GetObjectCommand({ Bucket: stack.s3.bucket, Key: key }));
            await got.Body?.transformToByteArray();
            if (i >= 0) raw.push(performance.now() - started);
            await sleep(300);
          }
        } catch (error) {
          const state = (device: typeof a) => {
            const st = device.engine.status();
            return `${st.state}, notifications ${st.notifications}${st.lastError ? `, last error ${st.lastError.code}: ${st.lastError.message}` : ""}`;
          };
          problems.push(
            `${kind} stack, ${label(size)}: ${(error as Error).message} (A: ${state(a)}; B: ${state(b)})`,
          );
        }
        if (engine.length > 0) {
          rows.push(
            row(`save on A to bytes on disk at B, ${label(size)} (${kind} stack)`, "ms", summarize(engine), {
              label: "raw SDK PUT + GET of the same bytes",
              figure: summarize(raw),
            }),
          );
        }
      }
    } finally {
      await session.close();
    }
    return { rows, describe: stack.describe };
  } finally {
    client.destroy();
    await stack.close();
  }
}

/**
 * (3) Sync latency: two devices (two real engines in this process, watcher and notifier on, default
 * debounce of 150 ms) of one account; A's file is written (the save), and the clock stops when B's
 * copy holds the new bytes. Beside it, the same bytes PUT to the same S3 store and read back with the
 * AWS SDK: the floor of moving them through that store. The stack runs in a process of its own.
 */
export async function run(config: BenchConfig): Promise<BenchResult> {
  const kinds = (process.env.BENCH_STACKS ?? "local").split(",") as StackKind[];
  const problems: string[] = [];
  const rows: ResultRow[] = [];
  const described: string[] = [];
  for (const kind of kinds) {
    try {
      const result = await measureStack(kind, config, problems);
      rows.push(...result.rows);
      described.push(result.describe);
    } catch (error) {
      problems.push(`${kind} stack: ${(error as Error).message}`);
    }
  }
  return {
    id: "sync-latency",
    title: "3. Sync latency, save on A to bytes on disk at B",
    setup: `Two engines of one account in one process (watcher + notifier socket, debounce 150 ms), the stack in another: ${described.join("; ")}. Each size: one unrecorded round, then ${config.latencySamplesSmall} samples (${config.latencySamplesLarge} for 50 MiB and up) overwriting the same file, 300 ms apart. p99 of fewer than 100 samples is close to the maximum.`,
    rows,
    problems,
  };
}
