import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Device, type Devices, startDevices } from "./testing/devices.ts";

let world: Devices;
let a: Device;
let b: Device;
beforeAll(async () => {
  // The way the extension and `wsync sync` run: file watcher and notifier on, no syncNow.
  world = await startDevices(2, { watch: true, notifications: true, debounceMs: 50 });
  [a, b] = world.devices as [Device, Device];
}, 120_000);
afterAll(async () => {
  await world?.close();
});

async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("condition not met in time");
}

describe("live sync, driven by the watcher and the notifier", () => {
  it("connects to the notifier over a WebSocket", async () => {
    await eventually(async () => a.engine.status().notifications === "connected");
    await eventually(async () => b.engine.status().notifications === "connected");
  });

  it("a file saved on one device appears on the other without anyone asking", async () => {
    await a.write("live/note.txt", "typed on a");
    await eventually(async () => (await b.tree())["live/note.txt"] === "typed on a");
    await b.write("live/note.txt", "answered on b");
    await eventually(async () => (await a.tree())["live/note.txt"] === "answered on b");
    await b.remove("live");
    await eventually(async () => (await a.tree())["live/note.txt"] === undefined);
    expect(a.engine.status().state).not.toBe("error");
  });
});
