import type { ChunkHash } from "@wsync/shared-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectGarbage, pruneExpiredVersions } from "../jobs/maintenance.ts";
import { makeChunk, uploadChunk } from "../testing/chunks.ts";
import { failure } from "../testing/failure.ts";
import { createHarness, type Harness } from "../testing/harness.ts";
import { checkInvariants } from "../testing/invariants.ts";
import type { CacheStore } from "./cache-store.ts";
import { createMemoryStore } from "./memory-store.ts";
import { chunksKey, filesKey } from "./metadata-cache.ts";

const DAY = 24 * 3600 * 1000;
let h: Harness;
const store = createMemoryStore();
beforeAll(async () => {
  h = await createHarness({ storage: "s3", cacheStore: store });
});
afterAll(() => h?.close());

const cachedOwned = async (userId: string, hash: string) =>
  (await store.areMembers(chunksKey(userId), [hash]))[0];
const cachedFile = (userId: string, fileId: string) => store.getField(filesKey(userId), fileId);

describe("the cache of chunk ownership", () => {
  it("a commit caches its chunks as owned; upload-url then answers exists from the cache", async () => {
    const { client, userId } = await h.signUp();
    const chunk = await makeChunk("cached once committed");
    await uploadChunk(client, chunk);
    expect(await cachedOwned(userId, chunk.hash)).toBe(false);
    await client.createFile({ parentId: null, name: "a", isFolder: false, chunks: [chunk.hash] });
    expect(await cachedOwned(userId, chunk.hash)).toBe(true);
    expect((await client.uploadUrl({ chunkHash: chunk.hash, size: chunk.bytes.length })).exists).toBe(true);
  });

  it("a stale 'owned' costs one round trip, never a lost chunk: the commit checks PostgreSQL and forgets it", async () => {
    const { client, userId } = await h.signUp();
    const chunk = await makeChunk("stale ownership");
    // The cache says owned, PostgreSQL does not (as after a collection whose invalidation was lost).
    await h.deps.cache.rememberOwnedChunks(userId, [chunk.hash]);
    expect(
      await h.sql`SELECT 1 FROM chunk_owners WHERE owner_id = ${userId} AND hash = ${chunk.hash}`,
    ).toEqual([]);
    expect((await client.uploadUrl({ chunkHash: chunk.hash, size: chunk.bytes.length })).exists).toBe(true);
    const refused = await failure(
      client.createFile({ parentId: null, name: "b", isFolder: false, chunks: [chunk.hash] }),
    );
    expect(refused).toMatchObject({ code: "chunks_missing", details: { missing: [chunk.hash] } });
    expect(await cachedOwned(userId, chunk.hash)).toBe(false);
    // The round trip: upload-url now asks for the bytes, and the commit goes through.
    expect(await uploadChunk(client, chunk)).toBe(true);
    await client.createFile({ parentId: null, name: "b", isFolder: false, chunks: [chunk.hash] });
    expect(await checkInvariants(h.sql)).toEqual([]);
  });

  it("garbage collection forgets the cached ownership of every chunk it collects", async () => {
    const { client, userId } = await h.signUp();
    const old = await makeChunk("collected: forgotten by the cache");
    const kept = await makeChunk("kept: still cached");
    await uploadChunk(client, old);
    await uploadChunk(client, kept);
    const file = await client.createFile({ parentId: null, name: "g", isFolder: false, chunks: [old.hash] });
    await client.commit(file.fileId, { version: 2, chunks: [kept.hash] });
    const pruneAt = new Date(Date.now() + 31 * DAY);
    await pruneExpiredVersions(h.deps, pruneAt);
    expect(await cachedOwned(userId, old.hash)).toBe(true);
    await collectGarbage(
      h.deps,
      new Date(pruneAt.getTime() + h.deps.config.chunkGraceSeconds * 1000 + 60_000),
    );
    expect(await cachedOwned(userId, old.hash)).toBe(false);
    expect(await cachedOwned(userId, kept.hash)).toBe(true);
    expect((await client.uploadUrl({ chunkHash: old.hash, size: old.bytes.length })).exists).toBe(false);
  });
});

describe("the cache of file metadata", () => {
  it("serves a cached entry only while its version is the file's current one", async () => {
    const { client, userId } = await h.signUp();
    const file = await client.createFile({ parentId: null, name: "m", isFolder: false, chunks: [] });
    const read = await client.getFile(file.fileId);
    expect(JSON.parse((await cachedFile(userId, file.fileId)) ?? "null")).toEqual(read);
    // A marked entry of the current version is what the next read returns: it came from the cache.
    await store.setField(filesKey(userId), file.fileId, JSON.stringify({ ...read, name: "from-cache" }), 60);
    expect((await client.getFile(file.fileId)).name).toBe("from-cache");
    // An entry of an older version is never served, even when its invalidation was lost.
    await h.sql`UPDATE files SET current_version = 2 WHERE owner_id = ${userId} AND id = ${file.fileId}`;
    await h.sql`
      INSERT INTO file_versions (owner_id, file_id, version, action, name, parent_id, is_folder, deleted, size, created_at)
      VALUES (${userId}, ${file.fileId}, 2, 'moved', 'm', NULL, false, false, 0, now())`;
    expect(await client.getFile(file.fileId)).toMatchObject({ name: "m", version: 2 });
  });

  it("create, commit, move, delete and restore each drop the user's cached metadata", async () => {
    const { client, userId } = await h.signUp();
    const file = await client.createFile({ parentId: null, name: "x", isFolder: false, chunks: [] });
    const cachedThen = async (change: () => Promise<unknown>) => {
      await client.getFile(file.fileId);
      expect(await cachedFile(userId, file.fileId)).not.toBeNull();
      await change();
      return cachedFile(userId, file.fileId);
    };
    expect(
      await cachedThen(() => client.createFile({ parentId: null, name: "y", isFolder: true })),
    ).toBeNull();
    expect(await cachedThen(() => client.commit(file.fileId, { version: 2, chunks: [] }))).toBeNull();
    expect(await cachedThen(() => client.moveFile(file.fileId, { version: 3, name: "x2" }))).toBeNull();
    expect(await cachedThen(() => client.deleteFile(file.fileId, 4))).toBeNull();
    expect(await cachedThen(() => client.restore(file.fileId, { version: 5, fromVersion: 3 }))).toBeNull();
    expect(await client.getFile(file.fileId)).toMatchObject({ version: 5, name: "x2", deleted: false });
  });

  it("revoking a device drops everything cached for its user", async () => {
    const { client, userId } = await h.signUp();
    const chunk = await makeChunk("revocation");
    await uploadChunk(client, chunk);
    const file = await client.createFile({
      parentId: null,
      name: "r",
      isFolder: false,
      chunks: [chunk.hash],
    });
    await client.getFile(file.fileId);
    const me = await client.me();
    const other = await h.client.login({
      email: me.email,
      password: "correct horse battery",
      deviceName: "2",
    });
    expect(store.keys()).toEqual(expect.arrayContaining([chunksKey(userId), filesKey(userId)]));
    await client.revokeDevice(other.deviceId);
    expect(store.keys()).not.toContain(chunksKey(userId));
    expect(store.keys()).not.toContain(filesKey(userId));
  });
});

/** A store that is down (every call fails) or hangs (no call ever answers). */
function brokenStore(mode: "down" | "hanging"): CacheStore {
  const fail = () =>
    mode === "down"
      ? Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379"))
      : new Promise<never>(() => {});
  return {
    kind: "redis",
    areMembers: fail,
    addMembers: fail,
    removeMembers: fail,
    getField: fail,
    setField: fail,
    delete: fail,
    close: async () => {},
  };
}

describe.each(["down", "hanging"] as const)("with the cache %s", (mode) => {
  it("every request is answered from PostgreSQL, with a warning in the log and no 5xx", async () => {
    const broken = await createHarness({
      storage: "s3",
      cacheStore: brokenStore(mode),
      config: { cache: { timeoutMs: 50 } },
    });
    try {
      const { client } = await broken.signUp();
      const chunk = await makeChunk(`cache ${mode}`);
      expect(await uploadChunk(client, chunk)).toBe(true);
      const file = await client.createFile({
        parentId: null,
        name: "f",
        isFolder: false,
        chunks: [chunk.hash],
      });
      expect((await client.uploadUrl({ chunkHash: chunk.hash, size: chunk.bytes.length })).exists).toBe(true);
      await client.commit(file.fileId, { version: 2, chunks: [chunk.hash as ChunkHash] });
      expect(await client.getFile(file.fileId)).toMatchObject({ version: 2, chunks: [chunk.hash] });
      await client.deleteFile(file.fileId, 3);
      await client.restore(file.fileId, { version: 4, fromVersion: 2 });
      const warnings = broken.logs.filter(
        (line) => line.msg === "cache unavailable: answering from PostgreSQL",
      );
      expect(warnings.length).toBeGreaterThanOrEqual(1);
      // Rate-limited: not one line per failed operation.
      expect(warnings.length).toBeLessThan(3);
      expect(broken.logs.filter((line) => line.msg === "request" && Number(line.status) >= 500)).toEqual([]);
    } finally {
      await broken.close();
    }
  });
});
