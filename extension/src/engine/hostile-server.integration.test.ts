import { createHash, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Change, type ChunkHash, chunkHashFromDigest, routes } from "@wsync/shared-protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createSyncEngine } from "./engine.ts";
import { readTree } from "./testing/devices.ts";

// A server (compromised, or a man in the middle) that sends names and moves meant to make the engine
// write outside the workspace folder. The engine runs for real on the disk; only the server is fake.

const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

function chunkOf(text: string): { hash: ChunkHash; bytes: Uint8Array<ArrayBuffer> } {
  const bytes = new TextEncoder().encode(text);
  return { hash: chunkHashFromDigest(new Uint8Array(createHash("sha256").update(bytes).digest())), bytes };
}

function change(partial: Partial<Change> & Pick<Change, "name">): Change {
  return {
    fileId: randomUUID(),
    action: "created",
    version: 1,
    parentId: null,
    isFolder: false,
    size: 0,
    updatedAt: "2026-03-15T09:22:10Z",
    ...partial,
  };
}

/** The engine's fetch, answering as a hostile server: `pages[n]` is the changes feed after token n. */
function hostileServer(pages: Change[][], chunks: Map<string, Uint8Array<ArrayBuffer>>) {
  return async (input: string, init?: RequestInit): Promise<Response> => {
    const url = new URL(input);
    const json = (body: unknown, status = 200) =>
      new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
    if (url.pathname === routes.changes) {
      const since = Number((url.searchParams.get("since") ?? "t0").slice(1));
      const page = pages[since] ?? [];
      return json({ changes: page, syncToken: `t${page.length ? since + 1 : since}`, hasMore: false });
    }
    if (url.pathname === routes.downloadUrls && init?.method === "POST") {
      const { hashes } = JSON.parse(String(init.body)) as { hashes: string[] };
      return json({ urls: Object.fromEntries(hashes.map((h) => [h, `http://store.test/${h}`])) });
    }
    if (url.host === "store.test") {
      const bytes = chunks.get(url.pathname.slice(1));
      return bytes ? new Response(bytes) : new Response("no", { status: 404 });
    }
    return json({ error: { code: "not_found", message: "hostile test server" } }, 404);
  };
}

describe("a hostile server", () => {
  it("cannot make the engine write, move or delete anything outside the workspace folder", async () => {
    const root = await mkdtemp(join(tmpdir(), "wsync-hostile-"));
    roots.push(root);
    const folder = join(root, "parent", "workspace");
    const stateDir = join(root, "state");
    await mkdir(folder, { recursive: true });
    const outsideBefore = await readTree(root);

    const payload = chunkOf("written by the server");
    const chunks = new Map([[payload.hash, payload.bytes]]);
    const file = { chunks: [payload.hash], size: payload.bytes.length };
    const dotdot = change({ name: "..", isFolder: true });
    const ok = change({ name: "ok.txt", ...file });
    const evil = [
      dotdot,
      change({ name: "escape.txt", parentId: dotdot.fileId, ...file }),
      change({ name: "../escape.txt", ...file }),
      change({ name: "..\\escape.txt", ...file }),
      change({ name: join(root, "absolute.txt"), ...file }),
      change({ name: "/etc/wsync-absolute.txt", ...file }),
      change({ name: ".", isFolder: true }),
      change({ name: "nul\u0000.txt", ...file }),
      change({ name: "", ...file }),
    ];
    // Page 2: the good file moved out of the folder by name, and into the ".." folder.
    const pages = [
      [...evil, ok],
      [
        { ...ok, action: "moved" as const, version: 2, name: "../moved-out.txt" },
        { ...ok, action: "moved" as const, version: 3, parentId: dotdot.fileId, name: "moved-in-dotdot.txt" },
      ],
    ];
    const engine = createSyncEngine({
      folder,
      stateDir,
      apiUrl: "http://api.test",
      token: "wsd1.hostile",
      deviceId: randomUUID(),
      deviceName: "victim",
      watch: false,
      notifications: false,
      hashThreads: 0,
      fetch: hostileServer(pages, chunks),
    });
    try {
      await engine.start();
      await engine.syncNow().catch(() => {});
      // The valid file from the same feed did land: the engine ran the page, skipping the bad items.
      expect(await readTree(folder)).toEqual({ "ok.txt": "written by the server" });
      await engine.syncNow().catch(() => {});
    } finally {
      await engine.stop();
    }
    const after = await readTree(root);
    const outside = Object.keys(after).filter(
      (path) => !path.startsWith("parent/workspace/") && !path.startsWith("state"),
    );
    expect(outside.sort()).toEqual(Object.keys(outsideBefore).sort());
    expect(await readdir(join(root, "parent"))).toEqual(["workspace"]);
    await expect(readdir("/etc")).resolves.not.toContain("wsync-absolute.txt");
    // Whatever the engine did with the moves, every byte it wrote is inside the folder.
    const inside = Object.entries(after).filter(([path]) => path.startsWith("parent/workspace/"));
    expect(inside.every(([path]) => !path.includes(".."))).toBe(true);
  });
});
