import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { routes } from "@wsync/shared-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Device, type Devices, startDevices } from "../testing/devices.ts";

/** Requests to the edge API by "METHOD path" (file ids folded), and chunk PUTs to storage. */
const requests = new Map<string, number>();
let failNextPuts = 0;
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
      else if (method === "PUT") {
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
    // One create per file and per folder (many, 10 folders), nothing more.
    expect(requests.get(`POST ${routes.files}`)).toBe(120 + 11);
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
});
