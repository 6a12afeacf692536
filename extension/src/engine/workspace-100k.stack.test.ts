import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ApiClient } from "@wsync/shared-protocol";
import { startTestStack, type TestStack } from "@wsync/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InlineHasher } from "./chunking/hasher.ts";
import type { SyncEngineOptions } from "./engine.ts";
import { NodeFileSystem } from "./fs/node-fs.ts";
import { IgnoreRules } from "./scan/ignore-rules.ts";
import { Scanner } from "./scan/scanner.ts";
import { countingFileSystem } from "./testing/counting-fs.ts";

/**
 * Issue 5: a workspace of 100,000 files -- the first scan, a restart with nothing changed, and idle
 * with nothing changing must all be cheap. Asserted on what is counted (files read, lstat calls,
 * timers fired, CPU time as a share of the idle window), never on wall-clock time. A stack test: making
 * and scanning 100,000 files takes about a minute here.
 */
const FOLDERS = 1000;
const PER_FOLDER = 100;
const FILES = FOLDERS * PER_FOLDER;
const IDLE_WINDOW_MS = 2000;
const IDLE_WINDOWS = 5;
const idleChild = fileURLToPath(new URL("./testing/idle-child.ts", import.meta.url));

let root: string;
let folder: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "wsync-100k-"));
  folder = join(root, "workspace");
  for (let f = 0; f < FOLDERS; f++) {
    const dir = join(folder, "bulk", `d${f}`);
    await mkdir(dir, { recursive: true });
    await Promise.all(
      Array.from({ length: PER_FOLDER }, (_, i) =>
        writeFile(join(dir, `file-${i}.txt`), `content ${f}/${i}\n`),
      ),
    );
  }
}, 300_000);
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe("a workspace of 100,000 files", () => {
  it("the first scan reads each file once; a restart with nothing changed reads none, one lstat per entry", async () => {
    const disk = countingFileSystem(new NodeFileSystem(folder));
    const hasher = new InlineHasher();
    const first = new Scanner(disk.fs, new IgnoreRules([]), { hasher, concurrency: 4 });
    await first.fullScan();
    const entries = FILES + FOLDERS + 1; // files, their folders, and bulk/
    expect(first.entries.size).toBe(entries);
    expect(disk.counts.openRead).toBe(FILES);
    // One lstat per entry and the root, and one per file read (its stat once read, to catch a file
    // that changed while it was read).
    expect(disk.counts.lstat).toBe(entries + 1 + FILES);
    expect(disk.counts.readdir).toBe(FOLDERS + 2);

    // A restart: a new scanner seeded with what the state store keeps.
    disk.reset();
    const restarted = new Scanner(disk.fs, new IgnoreRules([]), { hasher, concurrency: 4 });
    restarted.seed(first.entries.values());
    expect(await restarted.fullScan()).toBe(false);
    expect(disk.counts.openRead).toBe(0);
    expect(disk.counts.lstat).toBe(entries + 1);

    // One edit afterwards (a watcher event): that file alone is read.
    disk.reset();
    await writeFile(join(folder, "bulk/d7/file-7.txt"), "edited, and longer than before\n");
    expect(await restarted.rescan(["bulk/d7/file-7.txt"])).toBe(true);
    expect(disk.counts.openRead).toBe(1);
    expect(disk.counts.lstat).toBeLessThanOrEqual(3);
  }, 300_000);

  describe("idle", () => {
    let stack: TestStack;
    beforeAll(async () => {
      stack = await startTestStack();
    }, 120_000);
    afterAll(async () => {
      await stack?.close();
    });

    it("the engine watching all of it uses almost no CPU, fires no short timers and touches no file", async () => {
      const api = new ApiClient({ baseUrl: stack.apiUrl });
      const session = await api.register({
        email: `idle-${randomUUID()}@example.com`,
        password: "correct horse battery",
        deviceName: "idle",
      });
      // The watcher covers every one of the 100,000 files; the engine syncs the few outside bulk/
      // (a first sync of 100,000 files is the benchmark's job, not a test's).
      await writeFile(join(folder, "notes.txt"), "synced");
      const options: SyncEngineOptions & { windowMs: number; windows: number } = {
        folder,
        stateDir: join(root, "idle-state"),
        apiUrl: stack.apiUrl,
        notifierUrl: stack.notifierUrl,
        ...session,
        deviceName: "idle",
        ignorePatterns: ["/bulk/"],
        windowMs: IDLE_WINDOW_MS,
        windows: IDLE_WINDOWS,
      };
      const report = await runChild(options);
      console.info(`idle: ${JSON.stringify(report)}`);
      expect(report.stateBefore).toBe("idle");
      expect(report.stateAfter).toBe("idle");
      expect(report.notifications).toBe("connected");
      expect(report.shortTimersFired).toBe(0);
      expect(report.fsCalls).toEqual({ lstat: 0, readdir: 0, openRead: 0 });
      // A share of one core, the median window's (a start-up tail, such as a late GC, lands in one or two
      // windows; a polling loop costs in every one). Measured here, on a shared loaded machine: windows of
      // 0.0002 to 0.017, medians 0.0005 to 0.005. One lstat pass over 100,000 files costs seconds.
      const median = [...report.cpuShares].sort((x, y) => x - y)[Math.floor(IDLE_WINDOWS / 2)] as number;
      expect(median).toBeLessThan(0.02);
    }, 180_000);
  });
});

interface IdleReport {
  stateBefore: string;
  stateAfter: string;
  notifications: string;
  cpuShares: number[];
  shortTimersFired: number;
  fsCalls: Record<string, number>;
}

function runChild(options: object): Promise<IdleReport> {
  const child = spawn(process.execPath, ["--import", "tsx", idleChild, JSON.stringify(options)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (data: Buffer) => {
      output += data.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      const line = output.trim().split("\n").pop() ?? "";
      if (code !== 0 || !line.startsWith("{")) reject(new Error(`idle child exited ${code}: ${output}`));
      else resolve(JSON.parse(line) as IdleReport);
    });
  });
}
