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

  it("a downloaded file (replaced by rename) that is edited again still syncs back, without syncNow", async () => {
    // Each download writes a temp file and renames it over the target: a watcher that tracks the old
    // inode goes deaf to the path, and the later edit would wait for the next full rescan.
    await a.write("replaced/doc.txt", "first from a");
    await eventually(async () => (await b.tree())["replaced/doc.txt"] === "first from a");
    await a.write("replaced/doc.txt", "second from a");
    await eventually(async () => (await b.tree())["replaced/doc.txt"] === "second from a");
    await b.write("replaced/doc.txt", "edited on b after two downloads");
    await eventually(async () => (await a.tree())["replaced/doc.txt"] === "edited on b after two downloads");
    await a.write("replaced/doc.txt", "and once more on a");
    await eventually(async () => (await b.tree())["replaced/doc.txt"] === "and once more on a");
  });
});
