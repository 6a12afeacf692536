/**
 * The cost of scanning a large workspace: the first scan (reads and hashes everything), a restart
 * with nothing changed (stats only, zero reads) and a rescan after one edit.
 * Run: npx tsx extension/src/engine/scan/bench-scan.ts [files]   (default 100000). Not a test.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeFileSystem } from "../fs/node-fs.ts";
import type { FileSystem } from "../fs/types.ts";
import { IgnoreRules } from "./ignore-rules.ts";
import { Scanner } from "./scanner.ts";

const count = Number(process.argv[2] ?? 100_000);
const root = await mkdtemp(join(tmpdir(), "wsync-scan-bench-"));
const perFolder = 100;
for (let folder = 0; folder < count / perFolder; folder++) {
  await mkdir(join(root, `f${folder}`));
  await Promise.all(
    Array.from({ length: perFolder }, (_, i) =>
      writeFile(join(root, `f${folder}`, `file-${i}.txt`), `content ${folder}/${i}`),
    ),
  );
}

let reads = 0;
const disk = new NodeFileSystem(root);
const counting: FileSystem = Object.create(disk, {
  openRead: {
    value: (path: string) => {
      reads++;
      return disk.openRead(path);
    },
  },
});
const measure = async (label: string, run: () => Promise<unknown>) => {
  reads = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await run();
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  console.log(
    `${label.padEnd(34)} ${ms.toFixed(0).padStart(7)} ms wall ${((cpu.user + cpu.system) / 1000).toFixed(0).padStart(7)} ms CPU ${String(reads).padStart(7)} reads`,
  );
};

const first = new Scanner(counting, new IgnoreRules());
await measure(`first scan of ${count} files`, () => first.fullScan());
const restarted = new Scanner(counting, new IgnoreRules());
restarted.seed(first.entries.values());
await measure("restart, nothing changed", () => restarted.fullScan());
await writeFile(join(root, "f0", "file-0.txt"), "edited");
await measure("one file edited, watcher rescan", () => restarted.rescan(["f0/file-0.txt"]));
await rm(root, { recursive: true, force: true });
