import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSyncEngine } from "./engine.ts";
import { type Devices, startDevices } from "./testing/devices.ts";

let world: Devices;
beforeAll(async () => {
  world = await startDevices(2);
}, 120_000);
afterAll(async () => {
  await world?.close();
});

describe("two devices", () => {
  it("a file and a folder created on one appear on the other", async () => {
    const [a, b] = world.devices as [NonNullable<Devices["devices"][0]>, NonNullable<Devices["devices"][0]>];
    await a.write("notes/hello.txt", "hello from a");
    await a.write("empty.txt", "");
    await world.settle();
    expect(await b.tree()).toEqual({ "empty.txt": "", notes: null, "notes/hello.txt": "hello from a" });
  });

  it("pausing stops a transfer in the middle; resuming finishes it", async () => {
    const [a, b] = world.devices as [NonNullable<Devices["devices"][0]>, NonNullable<Devices["devices"][0]>];
    await a.write("big.bin", randomBytes(4 * 1024 * 1024));
    const paused = new Promise<void>((resolve) => {
      const off = a.engine.on("transfer", (progress) => {
        if (progress.direction === "upload" && progress.bytesDone > 0) {
          off();
          a.engine.pause();
          resolve();
        }
      });
    });
    const sync = a.engine.syncNow();
    await paused;
    await sync;
    expect(a.engine.status().state).toBe("paused");
    await b.engine.syncNow();
    expect((await b.tree())["big.bin"]).toBeUndefined();
    const sent = a.engine.status().transfers.bytesUploaded;
    expect(sent).toBeLessThan(4 * 1024 * 1024);
    a.engine.resume();
    await world.settle();
    expect((await b.tree())["big.bin"]).toBeDefined();
  });

  it("an engine paused before it starts stays paused, then syncs on resume", async () => {
    const [a, b] = world.devices as [NonNullable<Devices["devices"][0]>, NonNullable<Devices["devices"][0]>];
    await b.engine.stop();
    b.engine = createSyncEngine(b.options);
    b.engine.pause();
    await b.engine.start();
    expect(b.engine.status().state).toBe("paused");
    await a.write("while-paused.txt", "later");
    await a.engine.syncNow();
    await b.engine.syncNow();
    expect((await b.tree())["while-paused.txt"]).toBeUndefined();
    b.engine.resume();
    await world.settle();
    expect(await b.read("while-paused.txt")).toBe("later");
  });

  it("lists versions, reads an old one, restores it, and brings a deleted file back", async () => {
    const [a, b] = world.devices as [NonNullable<Devices["devices"][0]>, NonNullable<Devices["devices"][0]>];
    await a.write("history.txt", "first");
    await world.settle();
    await b.write("history.txt", "second");
    await world.settle();
    const versions = await a.engine.history.versions("history.txt");
    expect(versions.map((v) => v.version)).toEqual([2, 1]);
    expect(versions[0]?.deviceName).toBe("device-b");
    expect(new TextDecoder().decode(await a.engine.history.readVersion("history.txt", 1))).toBe("first");
    await a.engine.history.restore("history.txt", 1);
    await world.settle();
    expect(await b.read("history.txt")).toBe("first");

    await b.remove("history.txt");
    await world.settle();
    const deleted = a.engine.history.deleted().find((file) => file.path === "history.txt");
    expect(deleted).toBeDefined();
    await a.engine.history.restoreDeleted(deleted?.fileId as string);
    await world.settle();
    expect(await b.read("history.txt")).toBe("first");
  });

  it("a file deleted here and restored later comes back from the chunk cache, not the network", async () => {
    const [a, b] = world.devices as [NonNullable<Devices["devices"][0]>, NonNullable<Devices["devices"][0]>];
    await a.write("cached.bin", randomBytes(300 * 1024));
    await world.settle();
    await a.remove("cached.bin");
    await world.settle(); // b deletes its copy, keeping its chunks in the cache
    const before = b.engine.status().transfers;
    const fileId = b.engine.history.deleted().find((file) => file.path === "cached.bin")?.fileId as string;
    await b.engine.history.restoreDeleted(fileId);
    await world.settle();
    const after = b.engine.status().transfers;
    expect((await b.tree())["cached.bin"]).toBeDefined();
    expect(after.bytesDownloaded - before.bytesDownloaded).toBe(0);
    expect(after.chunksReused - before.chunksReused).toBeGreaterThan(0);
  });
});
