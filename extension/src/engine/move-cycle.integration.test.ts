import { rename } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Device, type Devices, startDevices } from "./testing/devices.ts";

let world: Devices;
let a: Device;
let b: Device;
beforeAll(async () => {
  world = await startDevices(2);
  [a, b] = world.devices as [Device, Device];
}, 120_000);
afterAll(async () => {
  await world?.close();
});

describe("a move cycle made by two devices", () => {
  it("A moved into B on one device, B into A on the other: the first move wins, nothing is lost", async () => {
    await a.write("A/a.txt", "in A");
    await a.write("B/b.txt", "in B");
    await world.settle();

    // The other client's move reaches the server first.
    await rename(join(a.folder, "A"), join(a.folder, "B", "A"));
    await a.engine.syncNow();
    // Here, before hearing of it: B into A, and an edit inside B.
    await rename(join(b.folder, "B"), join(b.folder, "A", "B"));
    await b.write("A/B/b.txt", "in B, edited on b");
    await b.engine.syncNow();

    expect(b.engine.status().deferred).toEqual([]);
    expect(b.engine.status().state).toBe("idle");
    await world.settle();
    const expected = { B: null, "B/A": null, "B/A/a.txt": "in A", "B/b.txt": "in B, edited on b" };
    expect(await b.tree()).toEqual(expected);
    expect(await a.tree()).toEqual(expected);
    expect(a.engine.status().deferred).toEqual([]);
  });
});
