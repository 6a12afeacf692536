import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ApiClient } from "@wsync/shared-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSyncEngine } from "./engine.ts";
import { NodeFileSystem } from "./fs/node-fs.ts";
import type { WriteHandle } from "./fs/types.ts";
import { type Device, type Devices, startDevices } from "./testing/devices.ts";

// Client-side faults beyond crash.integration.test.ts (kills mid-upload and mid-download): a kill at
// the commit, a full disk while downloading, and a network cut.

const child = fileURLToPath(new URL("./testing/commit-crash-child.ts", import.meta.url));

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

/** Runs the device in a child process and kills it (SIGKILL) at its first create or commit. */
async function killAtCommit(device: Device, moment: "before" | "after"): Promise<{ completed: boolean }> {
  await device.engine.stop();
  const process_ = spawn(
    process.execPath,
    ["--import", "tsx", child, JSON.stringify({ ...device.options, moment })],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  return new Promise((resolve, reject) => {
    let output = "";
    process_.stdout?.on("data", (data: Buffer) => {
      output += data.toString();
      if (output.includes("COMMIT\n")) process_.kill("SIGKILL");
    });
    process_.on("error", reject);
    process_.on("exit", () => resolve({ completed: output.includes("DONE") }));
  });
}

async function fileIdOf(device: Device, name: string): Promise<string> {
  const api = new ApiClient({ baseUrl: world.stack.apiUrl, token: device.session.token });
  const page = await api.changes({ limit: 1000 });
  const found = page.changes.filter((change) => change.name === name).at(-1);
  if (!found) throw new Error(`${name} is not on the server`);
  return found.fileId;
}

async function versionsOf(device: Device, name: string) {
  const api = new ApiClient({ baseUrl: world.stack.apiUrl, token: device.session.token });
  return (await api.listVersions(await fileIdOf(device, name))).versions;
}

describe("client faults", () => {
  it.each(["before", "after"] as const)(
    "killed %s the server answered a commit: on restart the edit is committed exactly once, with no conflicted copy",
    async (moment) => {
      const name = `commit-${moment}.txt`;
      await a.write(name, "first");
      await a.engine.syncNow();
      await a.write(name, `second, killed ${moment}`);
      expect((await killAtCommit(a, moment)).completed).toBe(false);

      a.engine = createSyncEngine(a.options);
      await a.engine.start();
      await a.engine.syncNow();
      await world.settle();
      const versions = await versionsOf(a, name);
      expect(versions.map((v) => [v.version, v.action])).toEqual([
        [2, "modified"],
        [1, "created"],
      ]);
      expect(await b.read(name)).toBe(`second, killed ${moment}`);
      expect(Object.keys(await a.tree()).filter((path) => path.includes("conflicted copy"))).toEqual([]);
    },
  );

  it("a full disk while downloading is a clear error that leaves the old file intact; it lands once space is back", async () => {
    const old = randomBytes(200_000);
    await a.write("big.bin", old);
    await a.engine.syncNow();
    await world.settle();

    let full = true;
    const disk = new NodeFileSystem(b.folder);
    const createExclusive = disk.createExclusive.bind(disk);
    disk.createExclusive = async (path, mode) => {
      const handle: WriteHandle = await createExclusive(path, mode);
      let written = 0;
      return {
        ...handle,
        write: async (data) => {
          written += data.length;
          if (full && written > 64 * 1024) {
            throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
          }
          await handle.write(data);
        },
        sync: () => handle.sync(),
        close: () => handle.close(),
      };
    };
    await world.restart(b, { fileSystem: disk });
    try {
      const next = randomBytes(200_000);
      await a.write("big.bin", next);
      await a.engine.syncNow();
      await b.engine.syncNow().catch(() => {});
      const status = b.engine.status();
      expect(status.state).toBe("error");
      expect(status.lastError?.code).toBe("ENOSPC");
      expect(Buffer.compare(await readFile(join(b.folder, "big.bin")), old)).toBe(0);

      full = false;
      await b.engine.syncNow();
      expect(b.engine.status()).toMatchObject({ state: "idle", lastError: null });
      expect(Buffer.compare(await readFile(join(b.folder, "big.bin")), next)).toBe(0);
      expect((await readdir(b.folder)).filter((entry) => entry.startsWith(".wsync-tmp-"))).toEqual([]);
    } finally {
      full = false;
      await world.restart(b, { fileSystem: undefined });
    }
  });

  it("a network cut: status says offline, edits queue, and all of them sync once the network is back", async () => {
    a.setOnline(false);
    for (let i = 0; i < 5; i++) await a.write(`queued/${i}.txt`, `written offline ${i}`);
    await a.engine.syncNow().catch(() => {});
    expect(a.engine.status().state).toBe("offline");
    await a.write("queued/0.txt", "edited again while offline");
    await a.engine.syncNow().catch(() => {});
    expect(a.engine.status().state).toBe("offline");
    await b.engine.syncNow();
    expect(Object.keys(await b.tree()).filter((path) => path.startsWith("queued"))).toEqual([]);

    a.setOnline(true);
    await a.engine.syncNow();
    expect(a.engine.status().state).toBe("idle");
    await world.settle();
    const tree = await b.tree();
    expect(tree["queued/0.txt"]).toBe("edited again while offline");
    for (let i = 1; i < 5; i++) expect(tree[`queued/${i}.txt`]).toBe(`written offline ${i}`);
  });
});
