import { mkdir, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type DeviceNetwork, startDeviceNetwork, startTestStack, type TestStack } from "@wsync/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineState, EngineStatus } from "./events.ts";
import { type Device, type Devices, startDevices } from "./testing/devices.ts";

// Issue #8: "a network cut between client and server for minutes: edits queue, then sync; the user sees
// 'offline'". Each device talks to the edge API, the notifier's WebSocket and the S3 store through TCP
// proxies of its own. Device A's network refuses every connection (cable out: instant errors) and
// device C's blackholes them (Wi-Fi dropped: connections stay open, no byte passes, requests hang)
// for CUT_MS while A, B and C keep editing, creating, deleting and renaming files. The engines sync
// by themselves (watcher, notifier, their own retries): no syncNow is forced after the cut.

const CUT_MS = Number(process.env.WSYNC_NETWORK_CUT_MS ?? 130_000);
const ROUND_MS = 10_000;

let stack: TestStack;
let world: Devices;
const networks: DeviceNetwork[] = [];

/** What each path should hold once everything has synced: every device's edits, applied in order. */
const expected = new Map<string, string>();

async function write(device: Device, path: string, content: string) {
  await device.write(path, content);
  expected.set(path, content);
}
async function remove(device: Device, path: string) {
  await device.remove(path);
  expected.delete(path);
}
async function move(device: Device, from: string, to: string) {
  await mkdir(dirname(join(device.folder, to)), { recursive: true });
  await rename(join(device.folder, from), join(device.folder, to));
  expected.set(to, expected.get(from) as string);
  expected.delete(from);
}

/** The files (not folders) of a device's tree. */
async function files(device: Device): Promise<Record<string, string>> {
  const tree = await device.tree();
  return Object.fromEntries(
    Object.entries(tree).filter((entry): entry is [string, string] => entry[1] !== null),
  );
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  stack = await startTestStack();
  world = await startDevices(3, { watch: true, notifications: true }, stack);
  // Each device behind its own network; the real fetch (the harness's setOnline cut is not used).
  for (const device of world.devices) {
    const network = await startDeviceNetwork(stack);
    networks.push(network);
    await world.restart(device, {
      apiUrl: network.apiUrl,
      notifierUrl: network.notifierUrl,
      fetch: (input, init) => fetch(input, init),
    });
  }
}, 120_000);

afterAll(async () => {
  // Networks back first: an engine stopping behind a blackhole would wait for its request timeouts.
  for (const network of networks) await network.cut.restore();
  await world?.close();
  for (const network of networks) await network.close();
  await stack?.close();
}, 180_000);

describe("a network cut of minutes", () => {
  it(
    "refused (A) or blackholed (C): status offline, edits queue, and all devices converge by themselves after",
    async () => {
      const [a, b, c] = world.devices as [Device, Device, Device];
      const [networkA, , networkC] = networks as [DeviceNetwork, DeviceNetwork, DeviceNetwork];
      for (const device of [a, b, c]) {
        for (let i = 0; i < 4; i++)
          await write(device, `${device.name}/kept-${i}.txt`, `${device.name} first ${i}`);
      }
      await write(a, "shared/from-a.txt", "a wrote this before the cut");
      await world.settle();
      await until(
        "every notifier connected",
        () => [a, b, c].every((device) => device.engine.status().notifications === "connected"),
        30_000,
      );

      const seen = new Map<Device, EngineStatus[]>([
        [a, []],
        [c, []],
      ]);
      const stopWatching = [a, c].map((device) =>
        device.engine.on("status", (status) => seen.get(device)?.push(status)),
      );
      await networkA.cut.refuse();
      networkC.cut.blackhole();

      const cutEnds = Date.now() + CUT_MS;
      for (let round = 0; Date.now() < cutEnds; round++) {
        for (const device of [a, c]) {
          const n = device.name;
          await write(device, `${n}/kept-${round % 4}.txt`, `${n} edited offline in round ${round}`);
          await write(device, `${n}/new/round-${round}.txt`, `${n} created offline in round ${round}`);
          if (round > 0 && round % 2 === 0) await remove(device, `${n}/new/round-${round - 1}.txt`);
          if (round % 3 === 1)
            await move(device, `${n}/new/round-${round}.txt`, `${n}/moved/round-${round}.txt`);
        }
        // B, online, edits its own files and one A made before the cut (A does not touch it meanwhile).
        await write(b, `${b.name}/kept-${round % 4}.txt`, `b edited in round ${round}`);
        await write(b, "shared/from-a.txt", `b edited a's file in round ${round}`);
        await write(b, `${b.name}/new/round-${round}.txt`, `b created in round ${round}`);
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(ROUND_MS, Math.max(0, cutEnds - Date.now()))),
        );
      }

      // Still cut: each cut device must say "offline", not hang in "syncing" (a blackholed request
      // waits for its timeout) and not "error"; the blackholed one must also notice its WebSocket died.
      await until(
        "A and C offline",
        () => [a, c].every((d) => d.engine.status().state === "offline"),
        120_000,
      );
      await until(
        "C's dead WebSocket noticed",
        () => c.engine.status().notifications !== "connected",
        120_000,
      );
      expect(a.engine.status().notifications).not.toBe("connected");
      for (const device of [a, c]) {
        // A round that began before the cut may still end idle; once offline, only offline or syncing
        // (a retry) until the network is back.
        const states = (seen.get(device) ?? []).map((status) => status.state);
        const sinceOffline = states.slice(states.indexOf("offline"));
        expect(states, device.name).toContain("offline");
        expect(
          sinceOffline.filter((state: EngineState) => state !== "offline" && state !== "syncing"),
          `${device.name}'s states during the cut: ${states.join(" ")}`,
        ).toEqual([]);
      }

      await networkA.cut.restore();
      await networkC.cut.restore();

      // No syncNow: the engines' retries, watchers and notifier reconnects must do it.
      const want = Object.fromEntries([...expected].sort(([x], [y]) => (x < y ? -1 : 1)));
      await until(
        "every device holding every edit",
        async () => {
          // A tree read while an engine renames a download into place may miss a file: read again.
          const trees = await Promise.all([a, b, c].map((device) => files(device).catch(() => null)));
          return trees.every((tree) => JSON.stringify(tree) === JSON.stringify(want));
        },
        240_000,
      );
      for (const device of [a, b, c]) {
        expect(await files(device), device.name).toEqual(want);
        expect(device.engine.status().conflicts, device.name).toEqual([]);
      }
      await until(
        "A and C idle with notifications back",
        () =>
          [a, c].every(
            (d) => d.engine.status().state === "idle" && d.engine.status().notifications === "connected",
          ),
        120_000,
      );
      for (const stop of stopWatching) stop();
    },
    CUT_MS + 600_000,
  );
});
