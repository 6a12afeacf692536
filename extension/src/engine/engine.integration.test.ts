import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
});
