/**
 * A device in its own process, for the idle test: it syncs, then sits idle with its watcher and
 * notifier socket on while nothing changes, and prints one JSON line: the CPU time it used in each of
 * `windows` windows as a share of the window, the short timers (due within 10 s) that fired in them,
 * and the file-system calls it made. A process of its own, so the test runner and the servers are not
 * measured.
 */
import { createHook } from "node:async_hooks";
import { createSyncEngine, type SyncEngineOptions } from "../engine.ts";
import { NodeFileSystem } from "../fs/node-fs.ts";
import { countingFileSystem } from "./counting-fs.ts";

const { windowMs, windows, ...options } = JSON.parse(process.argv[2] as string) as SyncEngineOptions & {
  windowMs: number;
  windows: number;
};

/** Timers due sooner than this count as activity: the notifier's keepalive ping (30 s) does not. */
const SHORT_TIMER_MS = 10_000;
// Every timer's delay, by async id; a `before` for one means its callback is about to run. This
// process's own waits are left out: the hook runs inside setTimeout, while `creatingOwn` is set.
const delays = new Map<number, number>();
let creatingOwn = false;
let counting = false;
let shortTimersFired = 0;
const firedDelays: number[] = [];
createHook({
  init(id, type, _trigger, resource) {
    if (type !== "Timeout" || creatingOwn) return;
    delays.set(id, (resource as { _idleTimeout?: number })._idleTimeout ?? 0);
  },
  before(id) {
    const delay = delays.get(id);
    if (counting && delay !== undefined && delay < SHORT_TIMER_MS) {
      shortTimersFired++;
      firedDelays.push(delay);
    }
  },
  destroy(id) {
    delays.delete(id);
  },
}).enable();

const sleep = (ms: number) =>
  new Promise((resolve) => {
    creatingOwn = true;
    setTimeout(resolve, ms);
    creatingOwn = false;
  });
const disk = countingFileSystem(new NodeFileSystem(options.folder));
const engine = createSyncEngine({ ...options, fileSystem: disk.fs });
await engine.start();
await engine.syncNow();
// Let the sync's tail pass before measuring: fetch (undici) closes each idle keep-alive socket with a
// one-shot timer (3 s here), and the notifier socket sends its first frames.
await sleep(5000);
const stateBefore = engine.status().state;
disk.reset();
counting = true;
const cpuShares: number[] = [];
for (let window = 0; window < windows; window++) {
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await sleep(windowMs);
  const cpu = process.cpuUsage(cpuBefore);
  cpuShares.push((cpu.user + cpu.system) / (Number(process.hrtime.bigint() - started) / 1000));
}
counting = false;
const report = {
  stateBefore,
  stateAfter: engine.status().state,
  notifications: engine.status().notifications,
  cpuShares,
  shortTimersFired,
  firedDelays,
  fsCalls: { ...disk.counts },
};
await engine.stop();
process.stdout.write(`${JSON.stringify(report)}\n`);
