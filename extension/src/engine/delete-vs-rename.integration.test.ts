import { rename } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Device, type Devices, startDevices } from "./testing/devices.ts";

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
describe("a delete here against a rename there", () => {
  it("a file deleted here while renamed there comes back under its new name on every device, and both agree", async () => {
    await a.write("notes/old.txt", "renamed bytes");
    await world.settle();
    await c.remove("notes/old.txt");
    await rename(join(a.folder, "notes/old.txt"), join(a.folder, "notes/new.txt"));
    await a.engine.syncNow();
    await c.engine.syncNow();
    expect(c.engine.status().lastError).toBeNull();
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
    await c.remove("box");
    await rename(join(a.folder, "box"), join(a.folder, "crate"));
    await a.engine.syncNow();
    await c.engine.syncNow();
    expect(c.engine.status().lastError).toBeNull();
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
});
