import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chunkBytes } from "./chunking/chunk-file.ts";
import { createSyncEngine } from "./engine.ts";
import { type Device, type Devices, startDevices, TEST_CHUNKING } from "./testing/devices.ts";

const child = fileURLToPath(new URL("./testing/crash-child.ts", import.meta.url));

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

/** Runs the device in a child process and kills it (SIGKILL) once `killAfter` chunks moved. */
async function runAndKill(device: Device, killAfter: number): Promise<{ completed: boolean }> {
  await device.engine.stop();
  const process_: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", child, JSON.stringify({ ...device.options, slowAfter: killAfter })],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    let output = "";
    process_.stdout?.on("data", (data: Buffer) => {
      output += data.toString();
      const moved = output.split("\n").filter((line) => /^(PUT|GET) \d+$/.test(line)).length;
      if (moved >= killAfter) process_.kill("SIGKILL");
    });
    process_.on("error", reject);
    process_.on("exit", () => resolve({ completed: output.includes("DONE") }));
  });
}

async function visibleFiles(folder: string): Promise<string[]> {
  return (await readdir(folder, { recursive: true })).map(String).sort();
}

describe("crashes", () => {
  it("a crash mid-upload resumes without re-sending the chunks already stored", async () => {
    const data = randomBytes(3 * 1024 * 1024); // about 45 chunks of 64 KiB on average
    await a.write("upload.bin", data);
    const killed = await runAndKill(a, 10);
    expect(killed.completed).toBe(false);
    // Restarted: the remaining chunks only, then the commit.
    a.engine = createSyncEngine(a.options);
    await a.engine.start();
    await a.engine.syncNow();
    const total = new Set((await chunkBytes(data, TEST_CHUNKING)).map((chunk) => chunk.hash)).size;
    const { chunksUploaded } = a.engine.status().transfers;
    expect(chunksUploaded).toBeGreaterThan(0);
    // Chunks stored before the crash are not sent again; at most those whose answer was still on its
    // way to the store when the process died (four in flight at most) are.
    expect(chunksUploaded).toBeLessThanOrEqual(total - 10 + 4);
    await world.settle();
    expect(Buffer.compare(await readFile(join(b.folder, "upload.bin")), data)).toBe(0);
  });

  it("a crash mid-download leaves nothing partial at a real path, and the download completes", async () => {
    const data = randomBytes(3 * 1024 * 1024);
    await a.write("download.bin", data);
    await a.engine.syncNow();
    const before = await visibleFiles(b.folder);
    const killed = await runAndKill(b, 5);
    expect(killed.completed).toBe(false);
    const after = await visibleFiles(b.folder);
    // Only our temporary file may have appeared; the real path is absent or complete.
    const added = after.filter((path) => !before.includes(path));
    for (const path of added) expect(path.split("/").pop()).toMatch(/^\.wsync-tmp-/);
    b.engine = createSyncEngine(b.options);
    await b.engine.start();
    await b.engine.syncNow();
    expect(Buffer.compare(await readFile(join(b.folder, "download.bin")), data)).toBe(0);
    // The leftover temporary file is cleaned up.
    expect((await visibleFiles(b.folder)).filter((path) => path.includes(".wsync-tmp-"))).toEqual([]);
  });
});
