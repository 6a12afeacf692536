import { createHash, randomUUID } from "node:crypto";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ApiClient } from "@wsync/shared-protocol";
import { startTestStack, type TestStack } from "@wsync/test-fixtures";
import type { ChunkingOptions } from "../chunking/chunker.ts";
import { createSyncEngine, type SyncEngine, type SyncEngineOptions } from "../engine.ts";
import { isConflictedCopyName } from "../plan/conflict-name.ts";

export interface Device {
  name: string;
  folder: string;
  stateDir: string;
  engine: SyncEngine;
  session: { token: string; deviceId: string };
  options: SyncEngineOptions;
  /** Writes a file (creating folders), as the user would. */
  write(path: string, content: string | Uint8Array): Promise<void>;
  read(path: string): Promise<string>;
  remove(path: string): Promise<void>;
  /** Every file and folder under the folder: path to content (null for folders). */
  tree(): Promise<Record<string, string | null>>;
  /** Cuts or restores this device's network: while cut, every request fails as a refused connection. */
  setOnline(online: boolean): void;
}

export interface Devices {
  stack: TestStack;
  /** The devices' sessions, to reuse in another world on the same account (login is rate-limited). */
  sessions: Array<{ token: string; deviceId: string }>;
  devices: Device[];
  /** Runs syncNow on every device until none changes anything and all trees agree. */
  settle(maxPasses?: number): Promise<void>;
  /** A fresh engine for a device (same folder and state), e.g. after a simulated crash. */
  restart(device: Device, overrides?: Partial<SyncEngineOptions>): Promise<void>;
  close(): Promise<void>;
}

/** Small chunks in tests, so multi-chunk files stay small; the algorithm is the same. */
export const TEST_CHUNKING: ChunkingOptions = {
  mode: "cdc",
  sizes: { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 },
};

export async function startDevices(
  count: number,
  overrides: Partial<SyncEngineOptions> = {},
  existingStack?: TestStack,
  existingSessions?: Array<{ token: string; deviceId: string }>,
): Promise<Devices> {
  const stack = existingStack ?? (await startTestStack());
  const root = await mkdtemp(join(tmpdir(), "wsync-devices-"));
  const anonymous = new ApiClient({ baseUrl: stack.apiUrl });
  const email = `user-${randomUUID()}@example.com`;
  const password = "correct horse battery";
  const devices: Device[] = [];
  for (let i = 0; i < count; i++) {
    const name = `device-${String.fromCharCode(97 + i)}`;
    const session =
      existingSessions?.[i] ??
      (i === 0
        ? await anonymous.register({ email, password, deviceName: name })
        : await anonymous.login({ email, password, deviceName: name }));
    const folder = join(root, name, "workspace");
    const network = { online: true };
    const stateDir = join(root, name, "state");
    await mkdir(folder, { recursive: true });
    const options: SyncEngineOptions = {
      folder,
      stateDir,
      apiUrl: stack.apiUrl,
      notifierUrl: stack.notifierUrl,
      token: session.token,
      deviceId: session.deviceId,
      deviceName: name,
      chunking: TEST_CHUNKING,
      watch: false,
      notifications: false,
      hashThreads: 0,
      // A cut cable, at the edge: the request never reaches the server.
      fetch: (input, init) =>
        network.online ? fetch(input, init) : Promise.reject(new TypeError("fetch failed: network cut")),
      ...overrides,
    };
    const device: Device = {
      name,
      folder,
      stateDir,
      session,
      options,
      engine: createSyncEngine(options),
      async write(path, content) {
        await mkdir(dirname(join(folder, path)), { recursive: true });
        await writeFile(join(folder, path), content);
      },
      read: (path) => readFile(join(folder, path), "utf8"),
      remove: (path) => rm(join(folder, path), { recursive: true, force: true }),
      tree: () => readTree(folder),
      setOnline: (online) => {
        network.online = online;
      },
    };
    devices.push(device);
  }
  for (const device of devices) {
    watchLogs(device);
    await device.engine.start();
  }

  return {
    stack,
    sessions: devices.map((device) => device.session),
    devices,
    async settle(maxPasses = 8) {
      let last = "";
      for (let pass = 0; pass < maxPasses; pass++) {
        for (const device of devices) await device.engine.syncNow();
        const trees = await Promise.all(devices.map((device) => device.tree()));
        const picture = JSON.stringify(trees);
        if (trees.every((tree) => JSON.stringify(tree) === JSON.stringify(trees[0])) && picture === last)
          return;
        last = picture;
      }
      const trees = await Promise.all(devices.map(async (d) => [d.name, await d.tree()]));
      // What each engine thought and last complained about: a divergence is a bug to diagnose.
      const why = devices.map((d) => {
        const { state, lastError, deferred, problems, skipped } = d.engine.status();
        return { device: d.name, state, lastError, deferred, problems, skipped, recentLogs: recentLogs(d) };
      });
      throw new Error(
        `devices did not converge: ${JSON.stringify(Object.fromEntries(trees), null, 1)}\n` +
          `engines: ${JSON.stringify(why, null, 1)}`,
      );
    },
    async restart(device, more = {}) {
      await device.engine.stop();
      device.options = { ...device.options, ...more };
      device.engine = createSyncEngine(device.options);
      watchLogs(device);
      await device.engine.start();
    },
    async close() {
      for (const device of devices) await device.engine.stop().catch(() => {});
      if (!existingStack) await stack.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

const LOG_MEMORY = 30;
const logsOf = new WeakMap<Device, string[]>();

/** Keeps a device's last warnings and errors, for the report when devices do not converge. */
function watchLogs(device: Device): void {
  const lines = logsOf.get(device) ?? [];
  logsOf.set(device, lines);
  device.engine.on("log", ({ level, message, data }) => {
    if (level !== "warn" && level !== "error") return;
    lines.push(`${new Date().toISOString()} ${level} ${message} ${data ? JSON.stringify(data) : ""}`);
    if (lines.length > LOG_MEMORY) lines.shift();
  });
}

function recentLogs(device: Device): string[] {
  return logsOf.get(device) ?? [];
}

export async function readTree(folder: string, prefix = ""): Promise<Record<string, string | null>> {
  const result: Record<string, string | null> = {};
  const names = (await readdir(join(folder, prefix)).catch(() => [] as string[])).sort();
  for (const name of names) {
    if (name === ".git") continue; // never synced: not part of the picture devices must agree on
    const path = prefix ? `${prefix}/${name}` : name;
    const stat = await lstat(join(folder, path));
    if (stat.isDirectory()) {
      result[path] = null;
      Object.assign(result, await readTree(folder, path));
    } else if (stat.isFile()) {
      const bytes = await readFile(join(folder, path));
      // Large files are compared by hash, so a failure message stays readable.
      result[path] =
        bytes.length > 4096
          ? `sha256:${createHash("sha256").update(bytes).digest("hex")}`
          : bytes.toString("utf8");
    }
  }
  return result;
}

/** The paths of the conflicted copies in a tree read by `readTree`. */
export function conflictedCopies(tree: Record<string, string | null>): string[] {
  return Object.keys(tree).filter((path) => isConflictedCopyName(path.split("/").pop() as string));
}

/** What a tree read by `readTree` holds under `folder`. */
export function under(tree: Record<string, string | null>, folder: string): Record<string, string | null> {
  return Object.fromEntries(Object.entries(tree).filter(([path]) => path.startsWith(`${folder}/`)));
}

/** Deletes everything in the account (each live item at the root), so a world can start empty again. */
export async function wipeAccount(apiUrl: string, token: string): Promise<void> {
  const api = new ApiClient({ baseUrl: apiUrl, token });
  const latest = new Map<string, { parentId: string | null; version: number; deleted: boolean }>();
  let since: string | undefined;
  for (;;) {
    const page = await api.changes({ ...(since ? { since } : {}), limit: 1000 });
    for (const change of page.changes) {
      latest.set(change.fileId, {
        parentId: change.parentId,
        version: change.version,
        deleted: change.action === "deleted",
      });
    }
    since = page.syncToken;
    if (!page.hasMore) break;
  }
  for (const [fileId, item] of latest) {
    if (item.parentId === null && !item.deleted) await api.deleteFile(fileId, item.version + 1);
  }
}
