import { randomBytes } from "node:crypto";
import { chmod, rename, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { ApiClient, type Change } from "@wsync/shared-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isConflictedCopyName } from "./plan/conflict-name.ts";
import { type Device, type Devices, startDevices } from "./testing/devices.ts";

/** Issue 5: executables keep what they are, on every device (POSIX: the owner's exec bit syncs). */

let world: Devices;
let a: Device;
let b: Device;
let c: Device;

beforeAll(async () => {
  world = await startDevices(3);
  [a, b, c] = world.devices as [Device, Device, Device];
}, 120_000);
afterAll(async () => {
  await world?.close();
});

const transfers = (device: Device) => device.engine.status().transfers;
const modeOf = async (device: Device, path: string) => (await stat(join(device.folder, path))).mode & 0o777;
const executable = async (device: Device, path: string) => ((await modeOf(device, path)) & 0o100) !== 0;
const everywhere = (path: string) => Promise.all([a, b, c].map((device) => executable(device, path)));

/** The server's newest change of the file at `name` (root level), as the changes feed gives it. */
async function serverState(name: string): Promise<Change | undefined> {
  const api = new ApiClient({ baseUrl: world.stack.apiUrl, token: a.session.token });
  let latest: Change | undefined;
  let since: string | undefined;
  for (;;) {
    const page = await api.changes({ ...(since ? { since } : {}), limit: 1000 });
    for (const change of page.changes) if (change.name === name && change.parentId === null) latest = change;
    since = page.syncToken;
    if (!page.hasMore) return latest;
  }
}

describe.skipIf(process.platform === "win32")("the executable bit syncs", () => {
  it("a new executable file arrives executable; a plain one arrives plain", async () => {
    await a.write("run.sh", "#!/bin/sh\necho run\n");
    await chmod(join(a.folder, "run.sh"), 0o755);
    await a.write("notes.txt", "plain");
    await world.settle();
    expect(await everywhere("run.sh")).toEqual([true, true, true]);
    expect(await everywhere("notes.txt")).toEqual([false, false, false]);
    // Exec bits exactly where read bits are (umask style: 0755 under the usual umask).
    for (const device of [b, c]) {
      const mode = await modeOf(device, "run.sh");
      expect(mode & 0o111).toBe((mode & 0o444) >> 2);
    }
    expect((await serverState("run.sh"))?.executable).toBe(true);
    expect((await serverState("notes.txt"))?.executable).toBe(false);
  });

  it("chmod +x and chmod -x of a synced file reach every device without sending any bytes", async () => {
    await a.write("tool.bin", randomBytes(200 * 1024));
    // An mtime well in the past: the scanner trusts the stat (no re-read), so only the mode tells.
    const past = new Date(Date.now() - 60_000);
    await utimes(join(a.folder, "tool.bin"), past, past);
    await world.settle();
    expect(await everywhere("tool.bin")).toEqual([false, false, false]);
    const version = (await serverState("tool.bin"))?.version ?? 0;
    const before = { a: transfers(a), b: transfers(b), c: transfers(c) };

    await chmod(join(a.folder, "tool.bin"), 0o755);
    await world.settle();
    expect(await everywhere("tool.bin")).toEqual([true, true, true]);
    const afterPlus = await serverState("tool.bin");
    expect(afterPlus).toMatchObject({ version: version + 1, action: "modified", executable: true });

    await chmod(join(b.folder, "tool.bin"), 0o644);
    await world.settle();
    expect(await everywhere("tool.bin")).toEqual([false, false, false]);
    expect(await serverState("tool.bin")).toMatchObject({ version: version + 2, executable: false });

    // A mode change is a commit of the same chunks: nothing uploaded, nothing downloaded.
    for (const device of [a, b, c]) {
      const now = transfers(device);
      const was = before[device.name.slice(-1) as "a" | "b" | "c"];
      expect(now.bytesUploaded).toBe(was.bytesUploaded);
      expect(now.bytesDownloaded).toBe(was.bytesDownloaded);
    }
  });

  it("an edit, a rename and a conflicted copy keep the bit", async () => {
    await a.write("build.sh", "#!/bin/sh\nmake\n");
    await chmod(join(a.folder, "build.sh"), 0o755);
    await world.settle();

    await b.write("build.sh", "#!/bin/sh\nmake all\n");
    await world.settle();
    expect(await a.read("build.sh")).toBe("#!/bin/sh\nmake all\n");
    expect(await everywhere("build.sh")).toEqual([true, true, true]);

    await rename(join(c.folder, "build.sh"), join(c.folder, "make.sh"));
    await world.settle();
    expect(await everywhere("make.sh")).toEqual([true, true, true]);

    await a.write("make.sh", "#!/bin/sh\nmake from a\n");
    await b.write("make.sh", "#!/bin/sh\nmake from b\n");
    await a.engine.syncNow();
    await b.engine.syncNow();
    await world.settle();
    const tree = await c.tree();
    const copies = Object.keys(tree).filter((path) => isConflictedCopyName(path));
    expect(copies).toHaveLength(1);
    expect(tree["make.sh"]).toBe("#!/bin/sh\nmake from a\n");
    expect(tree[copies[0] as string]).toBe("#!/bin/sh\nmake from b\n");
    expect(await everywhere("make.sh")).toEqual([true, true, true]);
    expect(await everywhere(copies[0] as string)).toEqual([true, true, true]);
  });

  it("a chmod on one device against an edit on another keeps both: no bytes and no bit are lost", async () => {
    await a.write("deploy.sh", "#!/bin/sh\ndeploy v1\n");
    await world.settle();
    await chmod(join(a.folder, "deploy.sh"), 0o755);
    await b.write("deploy.sh", "#!/bin/sh\ndeploy v2\n");
    await b.engine.syncNow();
    await a.engine.syncNow();
    await world.settle();
    const tree = await c.tree();
    const copies = Object.keys(tree).filter(
      (path) => path.startsWith("deploy") && isConflictedCopyName(path),
    );
    expect(tree["deploy.sh"]).toBe("#!/bin/sh\ndeploy v2\n");
    expect(copies.map((path) => tree[path])).toEqual(["#!/bin/sh\ndeploy v1\n"]);
    expect(await everywhere(copies[0] as string)).toEqual([true, true, true]);
    expect(await everywhere("deploy.sh")).toEqual([false, false, false]);
  });
});
