import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ApiClient, routes } from "@wsync/shared-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Device, type Devices, startDevices } from "../testing/devices.ts";

/** Requests to the edge API by "METHOD path" (file ids folded), and chunk PUTs to storage. */
const requests = new Map<string, number>();
let failNextPuts = 0;
/** Names sent to the single create, in order. */
const singleCreates: string[] = [];
/** Runs once before the next batch create reaches the server. */
let beforeNextBatch: (() => Promise<void>) | undefined;
const count = (key: string) => requests.set(key, (requests.get(key) ?? 0) + 1);

let world: Devices;
let a: Device;
let b: Device;
beforeAll(async () => {
  world = await startDevices(2, {
    fetch: async (input, init) => {
      const url = new URL(input);
      const method = init.method ?? "GET";
      if (url.pathname.startsWith("/api/"))
        count(`${method} ${url.pathname.replace(/[0-9a-f-]{36}/g, ":id")}`);
      if (url.pathname === routes.files && method === "POST")
        singleCreates.push((JSON.parse(String(init.body)) as { name: string }).name);
      if (url.pathname === routes.filesBatch && beforeNextBatch) {
        const hook = beforeNextBatch;
        beforeNextBatch = undefined;
        await hook();
      } else if (method === "PUT") {
        count("PUT chunk");
        if (failNextPuts > 0) {
          failNextPuts--;
          return new Response("storage down", { status: 400 });
        }
      }
      return fetch(input, init);
    },
  });
  [a, b] = world.devices as [Device, Device];
}, 120_000);
afterAll(async () => {
  await world?.close();
});

/** `files` small files, `perFolder` to a folder, under `root`; their contents by path. */
async function writeMany(device: Device, root: string, files: number, perFolder: number) {
  const contents: Record<string, string> = {};
  for (let i = 0; i < files; i++) {
    const path = `${root}/folder-${Math.floor(i / perFolder)}/file-${i}.txt`;
    contents[path] = `${root} file ${i} ${"x".repeat(i % 97)}\n`;
    await device.write(path, contents[path]);
  }
  return contents;
}

describe("a first sync of many small files", () => {
  it("asks for upload URLs in batches across files, not once per file, and every file arrives", async () => {
    const contents = await writeMany(a, "many", 120, 12);
    requests.clear();
    await a.engine.syncNow();
    expect(a.engine.status().lastError).toBeNull();
    // 120 files of one chunk each: one batch request, no per-file request.
    expect(requests.get(`POST ${routes.uploadUrls}`)).toBe(1);
    expect(requests.get(`POST ${routes.uploadUrl}`) ?? 0).toBe(0);
    expect(requests.get("PUT chunk")).toBe(120);
    // One create per folder (many, 10 folders); the 120 files in one batch create, nothing more.
    expect(requests.get(`POST ${routes.files}`)).toBe(11);
    expect(requests.get(`POST ${routes.filesBatch}`)).toBe(1);
    await b.engine.syncNow();
    const tree = await b.tree();
    for (const [path, content] of Object.entries(contents)) expect(tree[path]).toBe(content);
  }, 120_000);

  it("a chunk the batch could not upload is uploaded by its own file's create", async () => {
    const contents = await writeMany(a, "retry", 20, 10);
    requests.clear();
    // Storage refuses the first PUTs outright (not worth a retry): the batch leaves those chunks.
    failNextPuts = 3;
    await a.engine.syncNow();
    expect(a.engine.status().lastError).toBeNull();
    expect(requests.get("PUT chunk")).toBe(20 + 3);
    await b.engine.syncNow();
    const tree = await b.tree();
    for (const [path, content] of Object.entries(contents)) expect(tree[path]).toBe(content);
  }, 60_000);

  it("a file changed after the scan is not created with stale chunks; the next round sends its new bytes", async () => {
    const contents = await writeMany(a, "edited", 10, 10);
    requests.clear();
    let edited = false;
    const off = a.engine.on("transfer", (progress) => {
      // The first upload reported: rewrite a file whose chunk may not be sent yet.
      if (!edited && progress.direction === "upload") {
        edited = true;
        void writeFile(join(a.folder, "edited/folder-0/file-9.txt"), "rewritten during the sync\n");
      }
    });
    await a.engine.syncNow();
    off();
    await world.settle();
    contents["edited/folder-0/file-9.txt"] = "rewritten during the sync\n";
    const tree = await b.tree();
    for (const [path, content] of Object.entries(contents)) expect(tree[path]).toBe(content);
  }, 60_000);

  it("a name taken on the server under a batch: that file goes the single way to today's conflict handling, the rest are created", async () => {
    const contents = await writeMany(a, "clash", 12, 12);
    // Another device's file lands on one of the names after the folders exist, before the batch.
    beforeNextBatch = async () => {
      const other = new ApiClient({ baseUrl: world.stack.apiUrl, token: b.session.token });
      const { changes } = await other.changes({ limit: 1000 });
      const clash = changes.find((c) => c.name === "clash" && c.parentId === null);
      const folder = changes.find((c) => c.name === "folder-0" && c.parentId === clash?.fileId);
      if (!folder) throw new Error("the folder is not on the server yet");
      await other.createFile({ parentId: folder.fileId, name: "file-3.txt", isFolder: false, chunks: [] });
    };
    singleCreates.length = 0;
    await a.engine.syncNow();
    expect(beforeNextBatch).toBeUndefined();
    // The folders, then only the refused item on its own (later rounds make the conflicted copy).
    expect(singleCreates.slice(0, 3)).toEqual(["clash", "folder-0", "file-3.txt"]);
    expect(singleCreates.filter((name) => /^file-\d+\.txt$/.test(name))).toEqual(["file-3.txt"]);
    await world.settle();
    const tree = await b.tree();
    for (const [path, content] of Object.entries(contents)) {
      if (path !== "clash/folder-0/file-3.txt") expect(tree[path]).toBe(content);
    }
    // Both versions of the clashing file survive: one under the name, the other as a conflicted copy.
    const inFolder = Object.entries(tree).filter(([path]) => path.startsWith("clash/folder-0/file-3"));
    expect(inFolder.map(([, content]) => content).sort()).toEqual(
      ["", contents["clash/folder-0/file-3.txt"]].sort(),
    );
  }, 60_000);
});
