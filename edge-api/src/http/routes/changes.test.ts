import { type ApiClient, type Change, decodeSyncToken } from "@wsync/shared-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeChunk, uploadChunk } from "../../testing/chunks.ts";
import { failure } from "../../testing/failure.ts";
import { createHarness, type Harness } from "../../testing/harness.ts";
import { checkInvariants } from "../../testing/invariants.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ storage: "s3" });
});
afterAll(() => h?.close());

async function readAll(client: ApiClient, since?: string, limit = 1000) {
  const changes: Change[] = [];
  let token = since;
  for (;;) {
    const page = await client.changes({ ...(token ? { since: token } : {}), limit });
    changes.push(...page.changes);
    token = page.syncToken;
    if (!page.hasMore) return { changes, syncToken: token };
  }
}

describe("the changes feed", () => {
  it("lists every change from the beginning of the account, in commit order, with its state", async () => {
    const { client, deviceId } = await h.signUp();
    const chunk = await makeChunk("content");
    await uploadChunk(client, chunk);
    const dir = await client.createFile({ parentId: null, name: "dir", isFolder: true });
    const file = await client.createFile({
      parentId: dir.fileId,
      name: "f",
      isFolder: false,
      chunks: [chunk.hash],
    });
    await client.moveFile(file.fileId, { version: 2, name: "g" });
    await client.deleteFile(file.fileId, 3);

    const { changes } = await readAll(client);
    expect(changes.map((c) => [c.fileId, c.action, c.version, c.name])).toEqual([
      [dir.fileId, "created", 1, "dir"],
      [file.fileId, "created", 1, "f"],
      [file.fileId, "moved", 2, "g"],
      [file.fileId, "deleted", 3, "g"],
    ]);
    expect(changes[0]).not.toHaveProperty("chunks");
    expect(changes[1]).toMatchObject({
      chunks: [chunk.hash],
      size: 7,
      parentId: dir.fileId,
      isFolder: false,
      deviceId,
    });
    expect(changes[3]).not.toHaveProperty("chunks");
  });

  it("pages with syncToken and hasMore; a stored token later yields only what came after", async () => {
    const { client } = await h.signUp();
    for (let i = 0; i < 5; i++) await client.createFile({ parentId: null, name: `d${i}`, isFolder: true });
    const first = await client.changes({ limit: 2 });
    expect(first.changes).toHaveLength(2);
    expect(first.hasMore).toBe(true);
    const rest = await readAll(client, first.syncToken, 2);
    expect(rest.changes.map((c) => c.name)).toEqual(["d2", "d3", "d4"]);
    const idle = await client.changes({ since: rest.syncToken });
    expect(idle).toEqual({ changes: [], syncToken: rest.syncToken, hasMore: false });
    await client.createFile({ parentId: null, name: "later", isFolder: true });
    expect((await client.changes({ since: rest.syncToken })).changes.map((c) => c.name)).toEqual(["later"]);
    expect((await client.listDevices()).devices[0]?.lastSyncAt).not.toBeNull();
  });

  it("refuses a token that is malformed or ahead of the account", async () => {
    const { client } = await h.signUp();
    for (const since of ["garbage", "c1.zzzz", "c1."]) {
      expect((await failure(client.changes({ since }))).code).toBe("validation_failed");
    }
    for (const limit of [0, -1, 1001]) {
      expect((await failure(client.changes({ limit }))).code).toBe("validation_failed");
    }
  });

  it("under 10 concurrent writers, a paging reader sees every change exactly once, in commit order", async () => {
    const { client } = await h.signUp();
    const chunk = await makeChunk("shared content");
    await uploadChunk(client, chunk);
    const writers = Array.from({ length: 10 }, async (_, w) => {
      const file = await client.createFile({ parentId: null, name: `w${w}`, isFolder: false, chunks: [] });
      for (let version = 2; version <= 6; version++) {
        await client.commit(file.fileId, { version, chunks: version % 2 ? [] : [chunk.hash] });
      }
      await client.moveFile(file.fileId, { version: 7, name: `w${w}-done` });
    });
    let writing = true;
    const done = Promise.all(writers).finally(() => {
      writing = false;
    });

    const seen: Change[] = [];
    let token: string | undefined;
    let tokens: bigint[] = [];
    let pagesWhileWriting = 0;
    for (;;) {
      const stillWriting = writing;
      const page = await client.changes({ ...(token ? { since: token } : {}), limit: 7 });
      if (stillWriting && page.changes.length > 0) pagesWhileWriting++;
      seen.push(...page.changes);
      token = page.syncToken;
      tokens.push(decodeSyncToken(token) ?? -1n);
      if (!stillWriting && !page.hasMore) break;
    }
    await done;
    // The reader really did page through a journal that was still growing.
    expect(pagesWhileWriting).toBeGreaterThan(1);

    const keys = seen.map((c) => `${c.fileId}@${c.version}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(10 * 7);
    const [row] = await h.sql`SELECT count(*)::int AS n FROM file_versions v JOIN users u ON u.id = v.owner_id
      WHERE u.id = (SELECT owner_id FROM files WHERE id = ${seen[0]?.fileId ?? ""})`;
    expect(row?.n).toBe(70);
    // Commit order: each file's versions in order, and the whole sequence is the journal's.
    for (const fileId of new Set(seen.map((c) => c.fileId))) {
      const versions = seen.filter((c) => c.fileId === fileId).map((c) => c.version);
      expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7]);
    }
    expect((await readAll(client)).changes.map((c) => `${c.fileId}@${c.version}`)).toEqual(keys);
    tokens = tokens.filter((t) => t >= 0n);
    expect([...tokens].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(tokens);
    expect(await checkInvariants(h.sql)).toEqual([]);
  });
});
