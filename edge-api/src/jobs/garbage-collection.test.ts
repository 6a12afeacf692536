import type { ApiClient, ChunkHash } from "@wsync/shared-protocol";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChunkStorage } from "../storage/chunk-storage.ts";
import { makeChunk, type TestChunk, uploadChunk } from "../testing/chunks.ts";
import { failure } from "../testing/failure.ts";
import { createHarness, type Harness } from "../testing/harness.ts";
import { checkInvariants } from "../testing/invariants.ts";
import { collectGarbage } from "./garbage-collection.ts";
import { pruneExpiredVersions, runMaintenance } from "./maintenance.ts";

// The collector and a user's upload and commit, interleaved at each step of the collector. The app's
// clock is set by each test, so pins and the collector's "now" are comparable.
const DAY = 24 * 3600 * 1000;
let h: Harness;
let clock = new Date();
beforeAll(async () => {
  h = await createHarness({ storage: "s3", clock: () => clock });
});
afterAll(() => h?.close());
beforeEach(() => {
  clock = new Date();
});

const grace = () => h.deps.config.chunkGraceSeconds * 1000;
const at = (base: Date, ms: number) => new Date(base.getTime() + ms);
const stored = (hash: ChunkHash) => h.deps.storage.headChunk(hash);
const objectRow = async (hash: ChunkHash) =>
  (await h.sql`SELECT deleting_since FROM chunk_objects WHERE hash = ${hash}`)[0];

/**
 * A chunk whose only owner stopped referencing it (its version pruned): at the returned time the
 * collector drops the ownership and, nobody else holding it, deletes the object.
 */
async function orphanedChunk(text: string): Promise<{ chunk: TestChunk; collectAt: Date }> {
  const { client } = await h.signUp();
  const chunk = await makeChunk(text);
  await uploadChunk(client, chunk);
  const file = await client.createFile({
    parentId: null,
    name: "old",
    isFolder: false,
    chunks: [chunk.hash],
  });
  await client.commit(file.fileId, { version: 2, chunks: [] });
  const pruneAt = at(clock, 31 * DAY);
  expect(await pruneExpiredVersions(h.deps, pruneAt)).toBeGreaterThanOrEqual(1);
  return { chunk, collectAt: at(pruneAt, grace() + 60_000) };
}

async function uploadAndCommit(client: ApiClient, chunk: TestChunk, name: string) {
  await uploadChunk(client, chunk);
  return client.createFile({ parentId: null, name, isFolder: false, chunks: [chunk.hash] });
}

async function downloadable(client: ApiClient, hash: ChunkHash) {
  const { urls } = await client.downloadUrls([hash]);
  return (await fetch(urls[hash] ?? "")).status === 200;
}

describe("the collector against a user uploading and committing the same chunk", () => {
  it("it found no holder; the user then uploads and commits; the user's pin refuses the claim", async () => {
    const { chunk, collectAt } = await orphanedChunk("pin refuses the claim");
    const bob = await h.signUp();
    let claimed: readonly ChunkHash[] = [];
    await collectGarbage(h.deps, collectAt, {
      async beforeClaim() {
        clock = collectAt; // the user acts at the collector's time: its pin runs past it
        await uploadAndCommit(bob.client, chunk, "mine now");
      },
      async afterClaim(hashes) {
        claimed = hashes;
      },
    });
    expect(claimed).toEqual([]);
    expect(await stored(chunk.hash)).not.toBeNull();
    expect(await downloadable(bob.client, chunk.hash)).toBe(true);
    expect(await checkInvariants(h.sql)).toEqual([]);
  });

  it("it found no holder; the user uploads and commits; a collector whose clock ignores the pin claims, sees the new owner, and gives the claim back", async () => {
    const { chunk, collectAt } = await orphanedChunk("second look gives it back");
    const bob = await h.signUp();
    let claimed: readonly ChunkHash[] = [];
    const deleted = await collectGarbage(h.deps, at(collectAt, 100 * grace()), {
      beforeClaim: async () => void (await uploadAndCommit(bob.client, chunk, "mine now")),
      async afterClaim(hashes) {
        claimed = hashes;
      },
    });
    expect(claimed).toEqual([chunk.hash]);
    expect(deleted).toBe(0);
    expect(await objectRow(chunk.hash)).toEqual({ deleting_since: null });
    expect(await stored(chunk.hash)).not.toBeNull();
    expect(await downloadable(bob.client, chunk.hash)).toBe(true);
    expect(await checkInvariants(h.sql)).toEqual([]);
  });

  it("it claimed first: the user's commit sees the claim and answers chunks_missing; after the deletion a retry uploads again and the chunk stays", async () => {
    const { chunk, collectAt } = await orphanedChunk("claimed before the pin");
    const bob = await h.signUp();
    const real = h.deps.storage;
    let refused: unknown;
    // The user acts after the collector's last look and before its delete: the worst moment.
    const storage: ChunkStorage = {
      ...real,
      async deleteChunk(hash) {
        refused = await failure(uploadAndCommit(bob.client, chunk, "too late"));
        await real.deleteChunk(hash);
      },
    };
    expect(await collectGarbage({ ...h.deps, storage }, collectAt)).toBe(1);
    expect(refused).toMatchObject({ code: "chunks_missing", details: { missing: [chunk.hash] } });
    expect(await stored(chunk.hash)).toBeNull();
    expect((await bob.client.changes()).changes).toEqual([]);
    expect(await checkInvariants(h.sql)).toEqual([]);

    // The client kept its bytes: the retry uploads them again, and nothing collects them now.
    await uploadAndCommit(bob.client, chunk, "retried");
    await collectGarbage(h.deps, at(collectAt, 100 * grace()));
    expect(await stored(chunk.hash)).not.toBeNull();
    expect(await downloadable(bob.client, chunk.hash)).toBe(true);
    expect(await checkInvariants(h.sql)).toEqual([]);
  });

  it("an upload URL issued while the collector deletes keeps the object's row: bytes landing after the delete are tracked, not leaked", async () => {
    const { chunk, collectAt } = await orphanedChunk("uploaded after the delete");
    const bob = await h.signUp();
    const real = h.deps.storage;
    const storage: ChunkStorage = {
      ...real,
      async deleteChunk(hash) {
        clock = collectAt;
        const answer = await bob.client.uploadUrl({ chunkHash: hash, size: chunk.bytes.length });
        await real.deleteChunk(hash);
        await fetch(answer.uploadUrl ?? "", {
          method: "PUT",
          headers: answer.uploadHeaders ?? {},
          body: chunk.bytes,
        });
      },
    };
    await collectGarbage({ ...h.deps, storage }, collectAt);
    expect(await stored(chunk.hash)).not.toBeNull();
    expect(await objectRow(chunk.hash)).toEqual({ deleting_since: null });
    // Bob commits what he uploaded; had he not, the next collections would delete it (tested above).
    await bob.client.createFile({ parentId: null, name: "late", isFolder: false, chunks: [chunk.hash] });
    expect(await downloadable(bob.client, chunk.hash)).toBe(true);
    expect(await checkInvariants(h.sql)).toEqual([]);
  });

  it("an owner that references its chunk again within the grace period keeps ownership and object", async () => {
    const { client } = await h.signUp();
    const chunk = await makeChunk("referenced again in time");
    await uploadChunk(client, chunk);
    const file = await client.createFile({
      parentId: null,
      name: "f",
      isFolder: false,
      chunks: [chunk.hash],
    });
    await client.commit(file.fileId, { version: 2, chunks: [] });
    const pruneAt = at(clock, 31 * DAY);
    await pruneExpiredVersions(h.deps, pruneAt);
    clock = pruneAt;
    // Still owned: no upload needed, and the commit counts a reference again.
    expect((await client.uploadUrl({ chunkHash: chunk.hash, size: chunk.bytes.length })).exists).toBe(true);
    await client.commit(file.fileId, { version: 3, chunks: [chunk.hash] });
    await collectGarbage(h.deps, at(pruneAt, 100 * grace()));
    expect(await stored(chunk.hash)).not.toBeNull();
    expect((await client.uploadUrl({ chunkHash: chunk.hash, size: chunk.bytes.length })).exists).toBe(true);
    expect(await checkInvariants(h.sql)).toEqual([]);
  });

  it("an object uploaded and never committed is collected once its tag and pin expire: nothing leaks", async () => {
    const { client } = await h.signUp();
    const chunk = await makeChunk("uploaded, never committed");
    expect(await uploadChunk(client, chunk)).toBe(true);
    await runMaintenance(h.deps, at(clock, grace() / 2));
    expect(await stored(chunk.hash)).not.toBeNull();
    await runMaintenance(h.deps, at(clock, grace() + 60_000));
    expect(await stored(chunk.hash)).toBeNull();
    expect(await objectRow(chunk.hash)).toBeUndefined();
  });

  it("one owner's ownership expiring drops only its row: another owner keeps the object", async () => {
    const { chunk, collectAt } = await orphanedChunk("two owners, one leaves");
    const bob = await h.signUp();
    await uploadAndCommit(bob.client, chunk, "bob's");
    await collectGarbage(h.deps, at(collectAt, 100 * grace()));
    expect(await stored(chunk.hash)).not.toBeNull();
    expect(await h.sql`SELECT owner_id FROM chunk_owners WHERE hash = ${chunk.hash}`).toEqual([
      { owner_id: bob.userId },
    ]);
    expect(await checkInvariants(h.sql)).toEqual([]);
  });
});
