import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, open, rm, stat, statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ApiClient } from "@wsync/shared-protocol";
import { startTestStack, type TestStack } from "@wsync/test-fixtures";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SyncEngineOptions } from "./engine.ts";

/**
 * Memory stays bounded whatever the file size (issue 5: a 5 GB file under about 100 MB), measured as
 * the peak resident set of a device process, for the upload and for the download on another device
 * (both are measured before either is judged). Runs only with WSYNC_BIG_FILE_GIB set (e.g. 1, or 5 for
 * the issue's size; 1 GiB takes about 40 s here): NOT MET yet, so it cannot be part of the green suite.
 *
 * Measured 2026-11-27 (session 3), plain node on the bundle, peak RSS upload / download:
 *   0.25 GiB: 102-110 / 119-135 MiB;  1 GiB: 112 / 132 MiB  (before this session, 0.25 GiB: 141 / 122-133).
 * Where it goes (the child's WSYNC_MEMORY_TRACE=1 samples; perf on the growth):
 * - about 44 MiB is file-backed: the node executable's code, shared with every node process; the
 *   process's own (anonymous) memory peaks at about 68 MiB uploading, 87 MiB downloading (1 GiB);
 * - about 31 MiB anonymous before any work: V8 heap (~19 MiB total) and Node's own;
 * - block memory of the scan is now a fixed 8 MiB ring shared with the hashing worker (~9 MiB more);
 * - about 25 MiB for a moment when the traffic starts: V8's optimizing compiler tiering up the
 *   WebAssembly HTTP parser of Node's fetch (undici's llhttp), seen with perf as TurboFan register
 *   allocation zones; gone with WSYNC_CHILD_NODE_ARGS=--liftoff-only (upload peak then ~92-102 MiB);
 * - downloads: up to ~80 MiB of response pieces that undici allocates per socket read, garbage until
 *   V8 collects it (its external-memory trigger), and the young generation growing under that load.
 * Later in session 3 (0.25 GiB, peak RSS upload / download, runs in order on a loaded machine):
 * - the spill file is read back through one reused buffer, not a fresh 1 MiB per read: download
 *   116 / 119 / 119 (was 119 / 127 / 129 / 129);
 * - the engine's HTTP is node:http (transfer/node-http-fetch.ts), not fetch: no WebAssembly parser to
 *   tier up, and ~10-20% less CPU: upload 95-97 (was 105-109; its peak came before the first PUT ended);
 * - transfer/garbage-pacer.ts: a young-generation collection every 4 MiB received, a full one after a
 *   download of 32 MiB or more: download 103 / 104 / 106 / 113, upload 94 / 95 / 97 / 97; the 65
 *   collections took 36-135 ms of a download's ~2 s CPU. Full collections every 32 MiB cost ~20 ms each
 *   and did not move the peak; most of the download's remaining ArrayBuffers are live. 1 GiB, 3 runs:
 *   upload 104 / 103, download 117 / 120 (256 young collections, ~0.23 s of ~8 s CPU); pacing the
 *   upload too (a young collection per chunk sent) did not help: 112 / 116.
 *   Both directions carry ~10 MiB of V8 young generation grown under the traffic (heap committed
 *   20 -> 30 MiB; only a V8 flag, process-wide in an extension host, would hold it) and, uploading, the
 *   hashing worker of the scan (~13 MiB) the whole time.
 * What sets the download's peak now: after it, the next round's scan re-hashes the new file (it was
 *   written within the racy window of its mtime), which starts the hashing worker: ~13 MiB more, on a
 *   heap whose young generation grew to ~30 MiB committed during the transfer. Not met: still gated.
 * The file is sparse: one random 4 KiB block per MiB, so every chunk is distinct and is uploaded, yet
 * the source takes about 8 MiB of disk (the S3 store and the downloading device hold it whole).
 */
const GIB = 1024 ** 3;
const SIZE = Number(process.env.WSYNC_BIG_FILE_GIB ?? 0) * GIB;
const LIMIT_BYTES = 100 * 1024 * 1024;
const child = fileURLToPath(new URL("./testing/big-file-child.ts", import.meta.url));

interface ChildReport {
  state: string;
  lastError: unknown;
  transfers: { bytesUploaded: number; bytesDownloaded: number; chunksUploaded: number };
  maxRssBytes: number;
  scanPeakRssBytes: number | null;
  peakAnonBytes: number;
  fileBackedAtEndBytes: number;
  peakHeapBytes: number;
  peakExternalBytes: number;
  collections: { collections: number; milliseconds: number };
  cpuMs: number;
}

let stack: TestStack;
let root: string;
let bundle: string;
const sessions: Array<{ token: string; deviceId: string }> = [];

beforeAll(async () => {
  if (SIZE === 0) return;
  root = await mkdtemp(join(tmpdir(), "wsync-big-file-"));
  // The S3 store and the downloading device each hold the whole file: room for both, and some.
  const disk = await statfs(root);
  const free = disk.bavail * disk.bsize;
  if (free < 2 * SIZE + GIB) throw new Error(`needs ${(2 * SIZE + GIB) / GIB} GiB free in ${root}`);
  // Bundled like the shipped extension and run by plain Node: under tsx, its loader thread alone adds
  // about 40 MB to the process, which is not the engine's.
  bundle = join(root, "big-file-child.mjs");
  await build({
    entryPoints: [child],
    outfile: bundle,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external: ["@parcel/watcher"],
    // Bundled CommonJS dependencies call require(): give the ES module one.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: "warning",
  });
  stack = await startTestStack();
  const api = new ApiClient({ baseUrl: stack.apiUrl });
  const email = `big-${randomUUID()}@example.com`;
  const password = "correct horse battery";
  sessions.push(await api.register({ email, password, deviceName: "uploader" }));
  sessions.push(await api.login({ email, password, deviceName: "downloader" }));
}, 120_000);
afterAll(async () => {
  await stack?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

async function writeSparseFile(path: string, size: number): Promise<void> {
  const handle = await open(path, "w");
  try {
    for (let offset = 0; offset < size; offset += 1024 * 1024)
      await handle.write(randomBytes(4096), 0, 4096, offset);
    await handle.truncate(size);
  } finally {
    await handle.close();
  }
}

function runDevice(name: string, index: number): Promise<ChildReport> {
  const session = sessions[index] as { token: string; deviceId: string };
  const options: SyncEngineOptions = {
    folder: join(root, name, "workspace"),
    stateDir: join(root, name, "state"),
    apiUrl: stack.apiUrl,
    ...session,
    deviceName: name,
    watch: false,
    notifications: false,
  };
  // Extra node flags for a diagnosis, e.g. WSYNC_CHILD_NODE_ARGS=--liftoff-only (see the doc comment).
  const nodeArgs = process.env.WSYNC_CHILD_NODE_ARGS?.split(" ") ?? [];
  const process_ = spawn(process.execPath, [...nodeArgs, bundle, JSON.stringify(options)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let output = "";
    process_.stdout.on("data", (data: Buffer) => {
      output += data.toString();
    });
    process_.on("error", reject);
    process_.on("exit", (code) => {
      const line = output.trim().split("\n").pop() ?? "";
      if (code !== 0 || !line.startsWith("{")) reject(new Error(`${name} exited ${code}: ${output}`));
      else resolve(JSON.parse(line) as ChildReport);
    });
  });
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

describe.skipIf(SIZE === 0)(`a ${SIZE / GIB} GiB file`, () => {
  it("uploads, then downloads on another device, each in a process that stays under 100 MB resident", async () => {
    await mkdir(join(root, "uploader", "workspace"), { recursive: true });
    await mkdir(join(root, "downloader", "workspace"), { recursive: true });
    await writeSparseFile(join(root, "uploader", "workspace", "big.bin"), SIZE);

    const up = await runDevice("uploader", 0);
    console.info(
      JSON.stringify(up.transfers),
      `upload: peak RSS ${mib(up.maxRssBytes)} (before the first PUT ended ${mib(up.scanPeakRssBytes ?? 0)}; ` +
        `anonymous ${mib(up.peakAnonBytes)}, file-backed ${mib(up.fileBackedAtEndBytes)}), ` +
        `heap ${mib(up.peakHeapBytes)}, external + arrayBuffers ${mib(up.peakExternalBytes)}; ` +
        `CPU ${up.cpuMs.toFixed(0)} ms, forced collections ${JSON.stringify(up.collections)}`,
    );
    expect(up.state, JSON.stringify(up.lastError)).toBe("idle");
    // Every chunk is distinct: the whole file went through the upload path, not a dedup shortcut.
    expect(up.transfers.bytesUploaded).toBeGreaterThanOrEqual(SIZE);

    const down = await runDevice("downloader", 1);
    console.info(
      `download: peak RSS ${mib(down.maxRssBytes)} (anonymous ${mib(down.peakAnonBytes)}, ` +
        `file-backed ${mib(down.fileBackedAtEndBytes)}), heap ${mib(down.peakHeapBytes)}, ` +
        `external + arrayBuffers ${mib(down.peakExternalBytes)}; ` +
        `CPU ${down.cpuMs.toFixed(0)} ms, forced collections ${JSON.stringify(down.collections)}`,
    );
    expect(down.state, JSON.stringify(down.lastError)).toBe("idle");
    expect((await stat(join(root, "downloader", "workspace", "big.bin"))).size).toBe(SIZE);
    expect(down.transfers.bytesDownloaded).toBeGreaterThanOrEqual(SIZE);
    // Both measured before either is judged: a failing run still reports the other figure.
    expect({ upload: up.maxRssBytes < LIMIT_BYTES, download: down.maxRssBytes < LIMIT_BYTES }).toEqual({
      upload: true,
      download: true,
    });
  }, 600_000);
});
