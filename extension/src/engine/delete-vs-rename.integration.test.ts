import { rename } from "node:fs/promises";
import { join } from "node:path";
import { ApiClient, isApiError } from "@wsync/shared-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyDeleteRemote } from "./apply/apply-remote.ts";
import type { ApplyContext } from "./apply/context.ts";
import { createSyncEngine } from "./engine.ts";
import { NodeFileSystem } from "./fs/node-fs.ts";
import { StateStore } from "./state/state-store.ts";
import { type Device, type Devices, startDevices } from "./testing/devices.ts";
import { TransferStats } from "./transfer/stats.ts";

let world: Devices;
let a: Device;
let c: Device;
beforeAll(async () => {
  world = await startDevices(2);
  [a, c] = world.devices as [Device, Device];
}, 120_000);
afterAll(async () => {
  await world?.close();
});

/**
 * The randomized suite's seed -488355107 (path "5"): one device deletes a file while another renames
 * it on the server. The delete used to be sent at the old version again and again (version_conflict
 * every round), so the devices never agreed.
 */
/** C deletes `path` while A renames it to `to`; A syncs first, then C, whose round must not fail. */
async function deleteHereRenameThere(path: string, to: string): Promise<void> {
  await c.remove(path);
  await rename(join(a.folder, path), join(a.folder, to));
  await a.engine.syncNow();
  await c.engine.syncNow();
  expect(c.engine.status().lastError).toBeNull();
}

describe("a delete here against a rename there", () => {
  it("a file deleted here while renamed there comes back under its new name on every device, and both agree", async () => {
    await a.write("notes/old.txt", "renamed bytes");
    await world.settle();
    await deleteHereRenameThere("notes/old.txt", "notes/new.txt");
    expect(c.engine.status().state).toBe("idle");
    await world.settle();
    for (const device of [a, c]) {
      const tree = await device.tree();
      expect(tree["notes/new.txt"]).toBe("renamed bytes");
      expect(tree["notes/old.txt"]).toBeUndefined();
    }
  });

  it("a folder deleted here while renamed there comes back under its new name with all it holds", async () => {
    await a.write("box/one.txt", "one");
    await a.write("box/inner/two.txt", "two");
    await world.settle();
    await deleteHereRenameThere("box", "crate");
    await world.settle();
    for (const device of [a, c]) {
      const tree = await device.tree();
      expect(tree["crate/one.txt"]).toBe("one");
      expect(tree["crate/inner/two.txt"]).toBe("two");
      expect(Object.keys(tree).filter((path) => path.startsWith("box"))).toEqual([]);
    }
  });

  it("a file deleted here while renamed there and deleted afterwards stays deleted everywhere", async () => {
    await a.write("gone.txt", "short-lived");
    await world.settle();
    await c.remove("gone.txt");
    await rename(join(a.folder, "gone.txt"), join(a.folder, "gone-too.txt"));
    await a.engine.syncNow();
    await a.remove("gone-too.txt");
    await a.engine.syncNow();
    await c.engine.syncNow();
    expect(c.engine.status().lastError).toBeNull();
    await world.settle();
    for (const device of [a, c]) {
      const tree = await device.tree();
      expect(tree["gone.txt"]).toBeUndefined();
      expect(tree["gone-too.txt"]).toBeUndefined();
    }
  });

  it("a file moved here into a folder deleted there keeps the folder (seed 1067983103, path 15)", async () => {
    await a.write("box2/g.txt", "deleted with its folder");
    await a.write("src/c.txt", "moved in");
    await world.settle();
    await rename(join(a.folder, "src/c.txt"), join(a.folder, "box2/x.txt"));
    await c.remove("box2");
    await c.engine.syncNow();
    await a.engine.syncNow();
    expect(a.engine.status().lastError).toBeNull();
    await world.settle();
    for (const device of [a, c]) {
      const tree = await device.tree();
      expect(tree["box2/x.txt"]).toBe("moved in");
      expect(tree["box2/g.txt"]).toBeUndefined();
      expect(tree["src/c.txt"]).toBeUndefined();
    }
  });

  it("a delete refused as stale records where the server has the item now, so the next plan starts from there", async () => {
    await a.write("late.txt", "still wanted");
    await world.settle();
    await c.engine.stop();
    await rename(join(a.folder, "late.txt"), join(a.folder, "later.txt"));
    await a.engine.syncNow();
    // Device C sends the delete its (stale) plan made, as its executor would.
    const store = await StateStore.open(c.stateDir);
    try {
      const synced = [...store.synced.values()].find((entry) => entry.name === "late.txt");
      if (!synced) throw new Error("late.txt was not synced to C");
      const ctx = {
        fs: new NodeFileSystem(c.folder),
        api: new ApiClient({ baseUrl: world.stack.apiUrl, token: c.session.token }),
        store,
        stats: new TransferStats(),
        deviceId: c.session.deviceId,
        deviceName: c.name,
        concurrency: 1,
        chunkLimit: (fn) => fn(),
        fetch: (url, init) => fetch(url, init),
        locator: { find: () => [] },
        onConflict: () => {},
        onProgress: () => {},
        signal: new AbortController().signal,
        touched: new Set(),
        written: new Map(),
      } satisfies ApplyContext;
      const refused = await applyDeleteRemote(ctx, {
        type: "deleteRemote",
        fileId: synced.fileId,
        path: "late.txt",
        isFolder: false,
        version: synced.version,
      }).catch((error: unknown) => error);
      expect(isApiError(refused, "version_conflict")).toBe(true);
      expect(store.remote.get(synced.fileId)).toMatchObject({
        name: "later.txt",
        version: synced.version + 1,
        deleted: false,
      });
    } finally {
      await store.close();
    }
    c.engine = createSyncEngine(c.options);
    await c.engine.start();
    await world.settle();
    for (const device of [a, c]) expect((await device.tree())["later.txt"]).toBe("still wanted");
  });
});
