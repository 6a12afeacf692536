import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSyncEngine, type SyncEngine, type SyncEngineOptions } from "./engine.ts";
import { signIn } from "./stacks.ts";

export interface BenchDevice {
  folder: string;
  engine: SyncEngine;
  /** What the engine was made with: another engine made with them is this device restarted. */
  options: SyncEngineOptions;
}

/**
 * `count` devices of one new account, each an engine with a folder and state of its own under a temp
 * folder; `close` stops them and removes it all.
 */
export async function startDevices(
  stack: { apiUrl: string; notifierUrl: string },
  count: number,
  options: Partial<SyncEngineOptions> = {},
  /** Another build of the engine (the small-files benchmark compares an older one). */
  create: (options: SyncEngineOptions) => SyncEngine = createSyncEngine,
) {
  const root = await mkdtemp(join(tmpdir(), "wsync-bench-devices-"));
  const sessions = await signIn(stack.apiUrl, count);
  const devices: BenchDevice[] = [];
  for (const [index, session] of sessions.entries()) {
    const folder = join(root, `device-${index}`, "workspace");
    await mkdir(folder, { recursive: true });
    const engineOptions: SyncEngineOptions = {
      folder,
      stateDir: join(root, `device-${index}`, "state"),
      apiUrl: stack.apiUrl,
      notifierUrl: stack.notifierUrl,
      token: session.token,
      deviceId: session.deviceId,
      deviceName: `bench-${index}`,
      watch: false,
      notifications: false,
      ...options,
    };
    devices.push({ folder, engine: create(engineOptions), options: engineOptions });
  }
  return {
    devices,
    async close() {
      for (const device of devices) await device.engine.stop().catch(() => {});
      await rm(root, { recursive: true, force: true });
    },
  };
}
