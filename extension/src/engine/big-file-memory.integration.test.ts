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
 * (both are measured before either is judged). 0.5 GiB by default (about 25 s here; 5 GiB about 3 min); WSYNC_BIG_FILE_GIB
 * sets another size (5 for the issue's), 0 skips it. The limit is 100 MiB of resident memory, of
 * which about 44 MiB is the node executable's code, file-backed and shared with every node process.
 *
 * Measured 2026-11-27 (session 4), plain node on the bundle, a loaded machine, peak RSS upload /
 * download: 0.5 GiB 89-91 / 88-92 MiB (3 runs); 1 GiB 90-92 / 93-94 MiB (2 runs); 2 GiB 93 / 97 and
 * 5 GiB 107 / 106 MiB before the last point below; after it 0.5 GiB 84 / 82 (2 runs), 2 GiB 88 / 84,
 * 5 GiB 94 / 85 MiB (once each).
 * What it took (session 3's figures were 103-104 / 117-120 MiB at 1 GiB):
 * - the engine's HTTP is node:http (transfer/node-http-fetch.ts), not fetch: V8 tiering up undici's
 *   WebAssembly HTTP parser took ~25 MiB for a moment once traffic started;
 * - the scan reads 1 MiB blocks into a fixed 8 MiB ring the hashing worker reads in place, and the
 *   worker and its ring live only while a scan needs them (chunking/on-demand-hasher.ts): upload
 *   103 -> 91 MiB at 1 GiB;
 * - a file the engine has just downloaded is known to the scanner with its chunks and checked
 *   against them on this thread (scan/verify-chunks.ts), not cut and hashed again by a newly started
 *   worker: download 0.25 GiB 105 -> 89 MiB;
 * - a download copies spill files through one buffer for the whole file, not a fresh 1 MiB per chunk:
 *   those lived through several collections, were promoted, and only a full collection freed them
 *   (1 GiB download 98-104 -> 93-94 MiB); received pieces are staged through one 64 KiB buffer;
 * - transfer/garbage-pacer.ts: a young-generation collection every 4 MiB received (the child, like
 *   the CLI, owns its process and turns pacing on; without it the 1 GiB download peaks at 110-118);
 * - turning pacing on also sets V8's --optimize-for-size for the process: without it resident memory
 *   crept by 2-3 MiB per GiB synced, in the scan, the upload and the download alike.
 * WSYNC_MEMORY_TRACE=1 makes the child print a sample every 50 ms (resident, anonymous, file-backed,
 * heap, external, ArrayBuffers); WSYNC_CHILD_NODE_ARGS passes node flags (e.g. --cpu-prof).
 * The file is sparse: one random 4 KiB block per MiB, so every chunk is distinct and is uploaded, yet
 * the source takes about 8 MiB of disk per GiB (the S3 store and the downloading device hold it whole).
 */
const GIB = 1024 ** 3;
const SIZE = Number(process.env.WSYNC_BIG_FILE_GIB ?? 0.5) * GIB;
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
  it(
    "uploads, then downloads on another device, each in a process that stays under 100 MB resident",
    async () => {
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
    },
    Math.max(600_000, (SIZE / GIB) * 240_000),
  );
});
