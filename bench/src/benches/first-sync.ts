import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { type FetchLike, limits } from "@wsync/shared-protocol";
import type { BenchConfig } from "../config.ts";
import { writeSeededFile } from "../data.ts";
import { startDevices } from "../devices.ts";
import { watchPeakRss } from "../peak-rss.ts";
import { type BenchResult, type ResultRow, row } from "../report.ts";
import { type StackKind, s3Client, startStackProcess } from "../stacks.ts";
import { summarize } from "../stats.ts";

const NAME = "big.bin";

/** Counts what goes through the engine's fetch: edge API requests by route, and storage requests. */
function countingFetch(apiUrl: string) {
  const api = new Map<string, number>();
  let storage = 0;
  const fetchImpl: FetchLike = (input, init) => {
    const url = String(input);
    if (url.startsWith(apiUrl)) {
      const route = `${init?.method ?? "GET"} ${new URL(url).pathname.replace(/[0-9a-f-]{36}/g, ":id")}`;
      api.set(route, (api.get(route) ?? 0) + 1);
    } else {
      storage++;
    }
    return fetch(input, init);
  };
  return {
    fetchImpl,
    counts: () => ({
      api: Object.fromEntries(api),
      apiTotal: [...api.values()].reduce((a, b) => a + b, 0),
      storage,
    }),
  };
}

/**
 * (5) First sync of a big file: the real engine (its own device, scan + upload of missing chunks +
 * create) on the real stack when it runs, timed from start() to idle, beside a raw upload of the same
 * file to the same store with the AWS SDK's multipart Upload (8 MiB parts, 4 at a time, like the
 * engine's 4 chunks in flight). Round trips to the edge API are counted at the engine's fetch.
 */
export async function run(config: BenchConfig): Promise<BenchResult> {
  const kinds = (process.env.BENCH_STACKS ?? "local").split(",");
  const kind: StackKind = kinds.includes("real") ? "real" : "local";
  const size = config.firstSyncBytes;
  const dir = await mkdtemp(join(tmpdir(), "wsync-bench-first-sync-"));
  const stack = await startStackProcess(kind);
  const client = s3Client(stack);
  const problems: string[] = [];
  try {
    const source = join(dir, NAME);
    await writeSeededFile(source, size, "first-sync");
    const engineSeconds: number[] = [];
    const rawSeconds: number[] = [];
    // The engine runs in this process (the stack in its own): its peak beside this process's resident
    // memory just before start(), which is the harness, the AWS SDK and the idle engine.
    const peakRss: number[] = [];
    const rssBefore: number[] = [];
    let peakExact = true;
    let counts: ReturnType<ReturnType<typeof countingFetch>["counts"]> | undefined;
    let chunks = 0;
    for (let round = 0; round < config.firstSyncRepeats; round++) {
      // Raw first, so the file is in the page cache for both (the engine reads it twice: scan, upload).
      const started = performance.now();
      await new Upload({
        client,
        params: { Bucket: stack.s3.bucket, Key: `raw/${NAME}-${round}`, Body: createReadStream(source) },
        partSize: 8 * 1024 * 1024,
        queueSize: 4,
      }).done();
      rawSeconds.push((performance.now() - started) / 1000);
      await client.send(new DeleteObjectCommand({ Bucket: stack.s3.bucket, Key: `raw/${NAME}-${round}` }));

      // A new account each round: nothing of the file is on the server yet.
      const counter = countingFetch(stack.apiUrl);
      const session = await startDevices(stack, 1, { fetch: counter.fetchImpl });
      try {
        const [device] = session.devices as [(typeof session.devices)[number]];
        const { link } = await import("node:fs/promises");
        await link(source, join(device.folder, NAME));
        const before = counter.counts().apiTotal;
        rssBefore.push(process.memoryUsage.rss());
        const peak = watchPeakRss();
        const t0 = performance.now();
        await device.engine.start();
        engineSeconds.push((performance.now() - t0) / 1000);
        const measured = peak.stop();
        peakRss.push(measured.peakBytes);
        peakExact &&= measured.exact;
        const status = device.engine.status();
        if (status.lastError)
          problems.push(`round ${round}: ${status.lastError.code}: ${status.lastError.message}`);
        chunks = status.transfers.chunksUploaded;
        const after = counter.counts();
        counts = { ...after, apiTotal: after.apiTotal - before };
      } finally {
        await session.close();
      }
    }
    const batches = Math.ceil(chunks / limits.batchMax);
    const uploadUrlCalls = counts?.api["POST /api/v1/files/upload-urls"] ?? 0;
    const mbps = (list: number[]) => summarize(list.map((s) => size / s / 1e6));
    const rows: ResultRow[] = [
      row(`first sync of ${(size / 1e9).toFixed(1)} GB, wall time`, "s", summarize(engineSeconds), {
        label: "raw SDK multipart Upload of the same file",
        figure: summarize(rawSeconds),
      }),
      row(
        "first sync throughput",
        "MB/s",
        mbps(engineSeconds),
        { label: "raw SDK Upload", figure: mbps(rawSeconds) },
        {
          higherIsBetter: true,
        },
      ),
      row(
        "peak RSS of the engine's process (the bench process) during the sync",
        "MB",
        summarize(peakRss.map((bytes) => bytes / 1e6)),
        { label: "its RSS just before start()", figure: summarize(rssBefore.map((bytes) => bytes / 1e6)) },
        {
          goal: { text: "under 100 MB", met: Math.max(...peakRss) < 100e6 },
          note: peakExact
            ? "VmHWM, reset at start() through /proc/self/clear_refs"
            : "highest of samples every 20 ms (VmHWM could not be reset)",
        },
      ),
      row(
        "edge API round trips (requests)",
        "",
        summarize([counts?.apiTotal ?? Number.NaN]),
        { label: "chunks uploaded", figure: summarize([chunks]) },
        { note: JSON.stringify(counts?.api ?? {}) },
      ),
      row(
        "upload-urls batch requests",
        "",
        summarize([uploadUrlCalls]),
        { label: `ceil(chunks / ${limits.batchMax} per batch)`, figure: summarize([batches]) },
        {
          goal: {
            text: "metadata round trips grow with batches (chunks / batch size), not with chunks",
            met: uploadUrlCalls <= batches && (counts?.apiTotal ?? Number.POSITIVE_INFINITY) <= batches + 10,
          },
        },
      ),
    ];
    return {
      id: "first-sync",
      title: "5. First sync of a big file",
      setup: `${(size / 1e9).toFixed(2)} GB of incompressible bytes, one file; ${stack.describe} in its own process; the engine (default CDC 1/4/16 MiB, 4 chunks in flight) from start() to idle; ${chunks} chunks, ${counts?.storage ?? "?"} storage requests. ${config.firstSyncRepeats} round(s): a run this size is too long to repeat within the suite's time budget.`,
      rows,
      problems,
    };
  } finally {
    client.destroy();
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  }
}
