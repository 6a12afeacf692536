import { randomBytes } from "node:crypto";
import { symlink } from "node:fs/promises";
import { join } from "node:path";
import { ApiClient } from "@wsync/shared-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isConflictedCopyName } from "./plan/conflict-name.ts";
import { type Device, type Devices, startDevices } from "./testing/devices.ts";

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

const uploaded = (device: Device) => device.engine.status().transfers;
const conflictedCopies = (tree: Record<string, string | null>) =>
  Object.entries(tree).filter(([path]) => isConflictedCopyName(path.split("/").pop() as string));

describe("three devices converge", () => {
  it("an edit on one device reaches the others", async () => {
    await a.write("doc.md", "v1");
    await world.settle();
    await b.write("doc.md", "v2 from b");
    await world.settle();
    expect(await c.read("doc.md")).toBe("v2 from b");
    expect(await a.read("doc.md")).toBe("v2 from b");
  });

  it("concurrent edits keep both: the later committer's bytes become a conflicted copy", async () => {
    await a.write("shared.txt", "base");
    await world.settle();
    await a.write("shared.txt", "edit from a");
    await b.write("shared.txt", "edit from b");
    await a.engine.syncNow();
    await b.engine.syncNow();
    await world.settle();
    const tree = await c.tree();
    expect(tree["shared.txt"]).toBe("edit from a");
    const copies = conflictedCopies(tree);
    expect(copies).toHaveLength(1);
    expect(copies[0]?.[0]).toMatch(/^shared \(conflicted copy - device-b - \d{4}-\d{2}-\d{2}\)\.txt$/);
    expect(copies[0]?.[1]).toBe("edit from b");
    expect(b.engine.status().conflicts.map((conflict) => conflict.path)).toContain("shared.txt");
  });

  it("edit against delete: the edit wins and the file comes back", async () => {
    await a.write("keep-me.txt", "original");
    await world.settle();
    await a.remove("keep-me.txt");
    await b.write("keep-me.txt", "edited on b");
    await a.engine.syncNow();
    await b.engine.syncNow();
    await world.settle();
    for (const device of [a, b, c]) expect(await device.read("keep-me.txt")).toBe("edited on b");

    // And the other way round: deleted after the other side's edit arrived first.
    await a.write("keep-me-2.txt", "original");
    await world.settle();
    await b.write("keep-me-2.txt", "edited on b");
    await b.engine.syncNow();
    await a.remove("keep-me-2.txt");
    await a.engine.syncNow();
    await world.settle();
    for (const device of [a, b, c]) expect(await device.read("keep-me-2.txt")).toBe("edited on b");
  });

  it("two devices create the same path: the second becomes a conflicted copy", async () => {
    await a.write("new/plan.txt", "a's plan");
    await b.write("new/plan.txt", "b's plan");
    await a.engine.syncNow();
    await b.engine.syncNow();
    await world.settle();
    const tree = await c.tree();
    expect(tree["new/plan.txt"]).toBe("a's plan");
    const copies = conflictedCopies(tree);
    expect(copies.filter(([path]) => path.startsWith("new/")).map(([, content]) => content)).toEqual([
      "b's plan",
    ]);
  });

  it("the same content created on two devices is linked, not copied", async () => {
    await a.write("same.txt", "identical");
    await b.write("same.txt", "identical");
    await a.engine.syncNow();
    await b.engine.syncNow();
    await world.settle();
    expect(Object.keys(await c.tree()).filter((path) => path.startsWith("same"))).toEqual(["same.txt"]);
  });

  it("a rename uploads no bytes, and a folder rename is one move", async () => {
    await a.write("project/src/a.ts", "export const a = 1;");
    await a.write("project/src/b.ts", "export const b = 2;");
    await a.write("big.bin", randomBytes(300 * 1024));
    await world.settle();
    const before = uploaded(a).bytesUploaded;
    const { rename } = await import("node:fs/promises");
    await rename(join(a.folder, "big.bin"), join(a.folder, "renamed.bin"));
    await rename(join(a.folder, "project/src"), join(a.folder, "project/lib"));
    await world.settle();
    expect(uploaded(a).bytesUploaded).toBe(before);
    const tree = await b.tree();
    expect(tree["renamed.bin"]).toBeDefined();
    expect(tree["big.bin"]).toBeUndefined();
    expect(tree["project/lib/a.ts"]).toBe("export const a = 1;");
    // The files inside the renamed folder were not moved one by one: each still has its first version.
    const api = new ApiClient({ baseUrl: world.stack.apiUrl, token: a.session.token });
    const fileId = a.engine.history.fileIdOf("project/lib/a.ts") as string;
    expect((await api.listVersions(fileId)).versions.map((v) => v.action)).toEqual(["created"]);
  });

  it("keeps Unicode names, case-only renames, empty files and an executable bit through updates", async () => {
    const { chmod, rename, stat } = await import("node:fs/promises");
    await a.write("résumé 日本/naïve — ünïcode.txt", "unicode");
    await a.write("Case.txt", "case");
    await a.write("empty-folder/empty.txt", "");
    await a.write("run.sh", "#!/bin/sh\necho 1\n");
    await chmod(join(a.folder, "run.sh"), 0o755);
    await world.settle();
    expect(await c.read("résumé 日本/naïve — ünïcode.txt")).toBe("unicode");
    expect(await c.read("empty-folder/empty.txt")).toBe("");
    await rename(join(b.folder, "Case.txt"), join(b.folder, "case.txt"));
    await b.write("run.sh", "#!/bin/sh\necho 2\n");
    await world.settle();
    const tree = await a.tree();
    expect(tree["case.txt"]).toBe("case");
    expect(tree["Case.txt"]).toBeUndefined();
    // The update from b replaced a's copy and kept a's executable bit.
    expect(tree["run.sh"]).toBe("#!/bin/sh\necho 2\n");
    expect((await stat(join(a.folder, "run.sh"))).mode & 0o111).not.toBe(0);
  });

  it("a device offline through many changes catches up", async () => {
    await c.engine.stop();
    for (let i = 0; i < 20; i++) await a.write(`offline/file-${i}.txt`, `content ${i}`);
    await a.engine.syncNow();
    await b.engine.syncNow();
    await b.remove("doc.md");
    await b.write("offline/file-3.txt", "changed by b");
    await b.engine.syncNow();
    await c.write("offline-edit.txt", "made while offline");
    await world.restart(c);
    await world.settle();
    const tree = await c.tree();
    expect(tree["offline/file-19.txt"]).toBe("content 19");
    expect(tree["offline/file-3.txt"]).toBe("changed by b");
    expect(tree["doc.md"]).toBeUndefined();
    expect((await a.tree())["offline-edit.txt"]).toBe("made while offline");
  });

  it("a rename storm on one device ends with the same tree everywhere", async () => {
    const { rename } = await import("node:fs/promises");
    await a.write("storm/x.txt", "x");
    await a.write("storm/y.txt", "y");
    await world.settle();
    await rename(join(a.folder, "storm/x.txt"), join(a.folder, "storm/x1.txt"));
    await rename(join(a.folder, "storm/x1.txt"), join(a.folder, "storm/x2.txt"));
    await rename(join(a.folder, "storm/y.txt"), join(a.folder, "storm/x.txt"));
    await rename(join(a.folder, "storm"), join(a.folder, "storm2"));
    await rename(join(b.folder, "storm/y.txt"), join(b.folder, "storm/y-b.txt"));
    await world.settle();
    const tree = await c.tree();
    const storm = Object.fromEntries(Object.entries(tree).filter(([path]) => path.startsWith("storm")));
    expect(Object.values(storm).filter((content) => content === "x")).toHaveLength(1);
    expect(Object.values(storm).filter((content) => content === "y")).toHaveLength(1);
  });

  it("a swap of two file names converges everywhere and sends no bytes", async () => {
    const { rename } = await import("node:fs/promises");
    await a.write("swap/x.txt", "content of x");
    await a.write("swap/y.txt", "content of y");
    await world.settle();
    const before = uploaded(a).bytesUploaded;
    await rename(join(a.folder, "swap/x.txt"), join(a.folder, "swap/tmp"));
    await rename(join(a.folder, "swap/y.txt"), join(a.folder, "swap/x.txt"));
    await rename(join(a.folder, "swap/tmp"), join(a.folder, "swap/y.txt"));
    await world.settle();
    expect(await c.read("swap/x.txt")).toBe("content of y");
    expect(await c.read("swap/y.txt")).toBe("content of x");
    expect(uploaded(a).bytesUploaded).toBe(before);
  });

  it("never syncs .git and reports a symbolic link instead of following it", async () => {
    await a.write(".git/HEAD", "ref: refs/heads/main");
    await a.write(".git/refs/heads/main", "abc123");
    await symlink("/etc", join(a.folder, "etc-link"));
    await a.write("visible.txt", "v");
    await world.settle();
    const { readdir } = await import("node:fs/promises");
    const tree = await b.tree();
    expect(await readdir(b.folder)).not.toContain(".git");
    expect(tree["etc-link"]).toBeUndefined();
    expect(tree["visible.txt"]).toBe("v");
    expect(a.engine.status().skipped).toContainEqual({ path: "etc-link", reason: "symlink" });
    await a.remove("etc-link");
  });

  it("an in-place edit and an insertion in a large file each upload at most two chunks", async () => {
    // 4 MiB with the test chunk sizes (64 KiB average): about 60 chunks.
    const data = randomBytes(4 * 1024 * 1024);
    await a.write("large.bin", data);
    await world.settle();
    let before = uploaded(a);
    const edited = Buffer.from(data);
    edited.write("an in-place edit", 2_000_000);
    await a.write("large.bin", edited);
    await world.settle();
    expect(uploaded(a).chunksUploaded - before.chunksUploaded).toBeLessThanOrEqual(2);
    expect(uploaded(a).chunksUploaded - before.chunksUploaded).toBeGreaterThanOrEqual(1);
    before = uploaded(a);
    const inserted = Buffer.concat([
      edited.subarray(0, 3_000_000),
      Buffer.from("inserted bytes"),
      edited.subarray(3_000_000),
    ]);
    await a.write("large.bin", inserted);
    const downloadedBefore = uploaded(b).bytesDownloaded;
    await world.settle();
    expect(uploaded(a).chunksUploaded - before.chunksUploaded).toBeLessThanOrEqual(2);
    expect(uploaded(a).bytesUploaded - before.bytesUploaded).toBeLessThanOrEqual(2 * 256 * 1024);
    // The other device downloads only the new chunks and takes the rest from its old copy.
    expect(uploaded(b).bytesDownloaded - downloadedBefore).toBeLessThanOrEqual(2 * 256 * 1024);
    const { readFile } = await import("node:fs/promises");
    expect(Buffer.compare(await readFile(join(c.folder, "large.bin")), inserted)).toBe(0);
  });
});
