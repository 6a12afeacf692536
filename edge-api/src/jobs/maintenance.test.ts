import { ApiClient, type ChunkHash } from "@wsync/shared-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../http/app.ts";
import type { ChunkStorage } from "../storage/chunk-storage.ts";
import { makeChunk, uploadChunk } from "../testing/chunks.ts";
import { failure } from "../testing/failure.ts";
import { createHarness, type Harness } from "../testing/harness.ts";
import { checkInvariants } from "../testing/invariants.ts";
import { collectGarbage, pruneExpiredVersions, runMaintenance } from "./maintenance.ts";

const DAY = 24 * 3600 * 1000;
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ storage: "s3" });
});
afterAll(() => h?.close());

const later = (ms: number) => new Date(Date.now() + ms);
const stored = (hash: ChunkHash) => h.deps.storage.headChunk(hash);
const grace = () => h.deps.config.chunkGraceSeconds * 1000;

describe("retention", () => {
  it("prunes versions older than the window, always keeping each file's current one", async () => {
    const { client } = await h.signUp();
    const chunks = await Promise.all(["one", "two", "three"].map((t) => makeChunk(`retention ${t}`)));
    for (const chunk of chunks) await uploadChunk(client, chunk);
    const [c1, c2, c3] = chunks.map((c) => c.hash) as [ChunkHash, ChunkHash, ChunkHash];
    const file = await client.createFile({ parentId: null, name: "f", isFolder: false, chunks: [c1] });
    await client.commit(file.fileId, { version: 2, chunks: [c2] });
    await client.commit(file.fileId, { version: 3, chunks: [c3] });
    const untouched = await client.createFile({ parentId: null, name: "old but current", isFolder: true });

    expect(await pruneExpiredVersions(h.deps, later(29 * DAY))).toBe(0);
    expect(await pruneExpiredVersions(h.deps, later(31 * DAY))).toBeGreaterThanOrEqual(2);

    expect((await client.listVersions(file.fileId)).versions.map((v) => v.version)).toEqual([3]);
    expect((await client.listVersions(untouched.fileId)).versions.map((v) => v.version)).toEqual([1]);
    expect(await client.getFile(file.fileId)).toMatchObject({ version: 3, chunks: [c3] });
    // The feed keeps the superseding change; old chunks are no longer downloadable.
    const { changes } = await client.changes();
    expect(changes.map((c) => [c.name, c.version])).toEqual([
      ["f", 3],
      ["old but current", 1],
    ]);
    expect((await failure(client.downloadUrls([c1]))).code).toBe("not_found");
    expect((await failure(client.restore(file.fileId, { version: 4, fromVersion: 1 }))).code).toBe(
      "not_found",
    );
    expect(await checkInvariants(h.sql)).toEqual([]);
  });
});

describe("chunk garbage collection", () => {
  it("deletes an unreferenced chunk only after the grace period, and forgets its owners", async () => {
    const { client } = await h.signUp();
    const old = await makeChunk("collected after grace");
    const kept = await makeChunk("still referenced");
    await uploadChunk(client, old);
    await uploadChunk(client, kept);
    const file = await client.createFile({ parentId: null, name: "g", isFolder: false, chunks: [old.hash] });
    await client.commit(file.fileId, { version: 2, chunks: [kept.hash] });
    const pruneAt = later(31 * DAY);
    await pruneExpiredVersions(h.deps, pruneAt);

    await collectGarbage(h.deps, new Date(pruneAt.getTime() + grace() - 60_000));
    expect(await stored(old.hash)).not.toBeNull();
    expect((await client.uploadUrl({ chunkHash: old.hash, size: old.bytes.length })).exists).toBe(true);

    await collectGarbage(h.deps, new Date(pruneAt.getTime() + grace() + 60_000));
    expect(await stored(old.hash)).toBeNull();
    expect(await stored(kept.hash)).not.toBeNull();
    expect(await h.sql`SELECT 1 FROM chunk_objects WHERE hash = ${old.hash}`).toHaveLength(0);
    // Its owner must prove the bytes again; afterwards it is a chunk like any other.
    expect((await client.uploadUrl({ chunkHash: old.hash, size: old.bytes.length })).exists).toBe(false);
    await uploadChunk(client, old);
    await client.commit(file.fileId, { version: 3, chunks: [old.hash] });
    expect(await checkInvariants(h.sql)).toEqual([]);
  });

  it("never deletes a chunk whose upload URL is still within the grace period", async () => {
    const { client } = await h.signUp();
    const chunk = await makeChunk("upload in flight");
    const answer = await client.uploadUrl({ chunkHash: chunk.hash, size: chunk.bytes.length });
    await collectGarbage(h.deps, later(grace() / 2));
    await fetch(answer.uploadUrl ?? "", {
      method: "PUT",
      headers: answer.uploadHeaders ?? {},
      body: chunk.bytes,
    });
    await collectGarbage(h.deps, later(grace() / 2));
    await client.createFile({ parentId: null, name: "in flight", isFolder: false, chunks: [chunk.hash] });
    await collectGarbage(h.deps, later(10 * grace()));
    expect(await stored(chunk.hash)).not.toBeNull();
  });

  it("a collection that runs while a commit verifies the chunk leaves it alone: the upload tag holds it", async () => {
    const { client } = await h.signUp();
    const chunk = await makeChunk("raced by the collector");
    await uploadChunk(client, chunk);
    // The collector runs (with a clock past every grace period, so no pin protects anything) exactly
    // between the commit's HEAD and its transaction: the worst moment.
    const real = h.deps.storage;
    let raced = false;
    const racing: ChunkStorage = {
      ...real,
      async headChunk(hash) {
        const seen = await real.headChunk(hash);
        if (!raced) {
          raced = true;
          await collectGarbage({ ...h.deps, storage: real }, later(10 * grace()));
        }
        return seen;
      },
    };
    const racedApp = createApp({ ...h.deps, storage: racing });
    const viaRacedApp = new ApiClient({
      baseUrl: "http://edge.test",
      token: client.token ?? "",
      fetch: async (input, init) => racedApp.request(input, init),
    });
    await viaRacedApp.createFile({ parentId: null, name: "r", isFolder: false, chunks: [chunk.hash] });
    expect(raced).toBe(true);
    expect(await stored(chunk.hash)).not.toBeNull();
    expect(await checkInvariants(h.sql)).toEqual([]);
    await collectGarbage(h.deps, later(10 * grace()));
    const { urls } = await client.downloadUrls([chunk.hash]);
    expect((await fetch(urls[chunk.hash] ?? "")).status).toBe(200);
  });

  it("runMaintenance prunes, collects and sweeps housekeeping in one go", async () => {
    const summary = await runMaintenance(h.deps, later(400 * DAY));
    expect(summary).toEqual({ prunedVersions: expect.any(Number), deletedChunks: expect.any(Number) });
    expect(await h.sql`SELECT 1 FROM rate_limits`).toHaveLength(0);
    expect(await checkInvariants(h.sql)).toEqual([]);
  });
});
