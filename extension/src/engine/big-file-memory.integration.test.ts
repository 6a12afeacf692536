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
 * the peak resident set of a device process. Runs only with WSYNC_BIG_FILE_GIB set (e.g. 2, or 5 for
 * the size): NOT MET yet, so it cannot be part of the green suite. Measured 2026-11-27 with
 * 0.125 GiB: upload peak 312 MiB (live ArrayBuffers about 200 MiB even with a GC every 50 ms): each
 * chunk PUT reads the whole chunk (up to 16 MiB) into a fresh buffer and fetch copies a Uint8Array
 * body again, with 4 chunks in flight; zero-filled stretches cut at the 16 MiB maximum.
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
  peakHeapBytes: number;
  peakExternalBytes: number;
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
  const process_ = spawn(process.execPath, [bundle, JSON.stringify(options)], {
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
      `upload: peak RSS ${mib(up.maxRssBytes)} (scan ${mib(up.scanPeakRssBytes ?? 0)}), heap ${mib(up.peakHeapBytes)}, buffers ${mib(up.peakExternalBytes)}`,
    );
    expect(up.state, JSON.stringify(up.lastError)).toBe("idle");
    // Every chunk is distinct: the whole file went through the upload path, not a dedup shortcut.
    expect(up.transfers.bytesUploaded).toBeGreaterThanOrEqual(SIZE);
    expect(up.maxRssBytes).toBeLessThan(LIMIT_BYTES);

    const down = await runDevice("downloader", 1);
    console.info(
      `download: peak RSS ${mib(down.maxRssBytes)}, heap ${mib(down.peakHeapBytes)}, buffers ${mib(down.peakExternalBytes)}`,
    );
    expect(down.state, JSON.stringify(down.lastError)).toBe("idle");
    expect((await stat(join(root, "downloader", "workspace", "big.bin"))).size).toBe(SIZE);
    expect(down.maxRssBytes).toBeLessThan(LIMIT_BYTES);
  }, 600_000);
});
