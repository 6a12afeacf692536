import { limits } from "@wsync/shared-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeChunk, putChunk, uploadChunk } from "../../testing/chunks.ts";
import { failure } from "../../testing/failure.ts";
import { createHarness, type Harness } from "../../testing/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ storage: "s3" });
});
afterAll(() => h?.close());

describe("upload URLs and dedup", () => {
  it("a new chunk gets a presigned PUT with the checksum header to send; chunkId names it", async () => {
    const { client } = await h.signUp();
    const chunk = await makeChunk("fresh bytes");
    const answer = await client.uploadUrl({ chunkHash: chunk.hash, size: chunk.bytes.length });
    expect(answer.exists).toBe(false);
    expect(answer.uploadUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[a-z0-9-]+\/chunks\/[0-9a-f]{64}\?/);
    expect(answer.chunkId).toBe(chunk.hash.slice("sha256:".length));
    expect(answer.uploadHeaders).toMatchObject({ "x-amz-checksum-sha256": expect.any(String) });
    expect((await putChunk(answer.uploadUrl ?? "", answer.uploadHeaders, chunk.bytes)).status).toBe(200);
  });

  it("exists is true only for chunks this user owns; another user must upload the same bytes itself", async () => {
    const alice = await h.signUp();
    const bob = await h.signUp();
    const secret = await makeChunk("alice's private bytes");
    await uploadChunk(alice.client, secret);
    const file = await alice.client.createFile({
      parentId: null,
      name: "s",
      isFolder: false,
      chunks: [secret.hash],
    });
    expect((await alice.client.uploadUrl({ chunkHash: secret.hash, size: 21 })).exists).toBe(true);

    // Bob knows the hash, not the bytes: no dedup answer, no commit, no download.
    const bobs = await bob.client.uploadUrl({ chunkHash: secret.hash, size: 21 });
    expect(bobs).toMatchObject({ exists: false, uploadUrl: expect.any(String) });
    const stolen = await failure(
      bob.client.createFile({ parentId: null, name: "x", isFolder: false, chunks: [secret.hash] }),
    );
    expect(stolen).toMatchObject({ code: "chunks_missing", details: { missing: [secret.hash] } });
    expect((await failure(bob.client.downloadUrls([secret.hash]))).code).toBe("not_found");

    // Uploading the bytes himself proves he has them; storage stays one object per hash.
    expect((await putChunk(bobs.uploadUrl ?? "", bobs.uploadHeaders, secret.bytes)).status).toBe(200);
    await bob.client.createFile({ parentId: null, name: "mine", isFolder: false, chunks: [secret.hash] });
    expect((await bob.client.uploadUrl({ chunkHash: secret.hash, size: 21 })).exists).toBe(true);
    await alice.client.commit(file.fileId, { version: 2, chunks: [secret.hash, secret.hash] });
    // One object; each owner counts its own references (alice 1 + 2, bob 1), on its own shard.
    expect(await h.sql`SELECT 1 FROM chunk_objects WHERE hash = ${secret.hash}`).toHaveLength(1);
    const counts = await h.sql`
      SELECT owner_id, reference_count FROM chunk_owners WHERE hash = ${secret.hash} ORDER BY reference_count`;
    expect(counts).toEqual([
      { owner_id: bob.userId, reference_count: 1 },
      { owner_id: alice.userId, reference_count: 3 },
    ]);
  });

  it("the batch form answers each chunk in request order, up to the documented limit", async () => {
    const { client } = await h.signUp();
    const owned = await makeChunk("already mine");
    await uploadChunk(client, owned);
    await client.createFile({ parentId: null, name: "o", isFolder: false, chunks: [owned.hash] });
    const fresh = await Promise.all(Array.from({ length: 300 }, (_, i) => makeChunk(`chunk ${i}`)));
    const request = [...fresh.slice(0, 150), owned, ...fresh.slice(150)].map((c) => ({
      chunkHash: c.hash,
      size: c.bytes.length,
    }));
    const { results } = await client.uploadUrls({ chunks: request });
    expect(results.map((r) => r.chunkHash)).toEqual(request.map((r) => r.chunkHash));
    expect(results.filter((r) => r.exists).map((r) => r.chunkHash)).toEqual([owned.hash]);
    expect(results.filter((r) => r.uploadUrl !== null)).toHaveLength(300);
    const one = fresh[7];
    const answer = results[7];
    if (!one || !answer) throw new Error("missing");
    expect((await putChunk(answer.uploadUrl ?? "", answer.uploadHeaders, one.bytes)).status).toBe(200);

    const tooMany = Array.from(
      { length: limits.batchMax + 1 },
      () => request[0] ?? { chunkHash: owned.hash, size: 1 },
    );
    expect((await failure(client.uploadUrls({ chunks: tooMany }))).code).toBe("validation_failed");
  });
});

describe("integrity", () => {
  it("the store refuses wrong bytes, a missing checksum header and a longer body", async () => {
    const { client } = await h.signUp();
    const chunk = await makeChunk("the right bytes");
    const answer = await client.uploadUrl({ chunkHash: chunk.hash, size: chunk.bytes.length });
    const url = answer.uploadUrl ?? "";
    const wrong = new TextEncoder().encode("the wrong bytes");
    expect((await putChunk(url, answer.uploadHeaders, wrong)).status).toBe(400);
    expect((await putChunk(url, {}, chunk.bytes)).ok).toBe(false);
    const longer = new TextEncoder().encode("the right bytes, and more");
    expect((await putChunk(url, answer.uploadHeaders, longer)).ok).toBe(false);
    const commit = await failure(
      client.createFile({ parentId: null, name: "f", isFolder: false, chunks: [chunk.hash] }),
    );
    expect(commit).toMatchObject({ code: "chunks_missing", details: { missing: [chunk.hash] } });
    expect((await putChunk(url, answer.uploadHeaders, chunk.bytes)).status).toBe(200);
    await client.createFile({ parentId: null, name: "f", isFolder: false, chunks: [chunk.hash] });
  });

  it("a commit naming chunks never uploaded is chunks_missing listing them, and writes nothing", async () => {
    const { client } = await h.signUp();
    const good = await makeChunk("good");
    await uploadChunk(client, good);
    const file = await client.createFile({ parentId: null, name: "f", isFolder: false, chunks: [good.hash] });
    const never = await makeChunk("never uploaded");
    const asked = await makeChunk("url asked, never sent");
    await client.uploadUrl({ chunkHash: asked.hash, size: asked.bytes.length });
    const error = await failure(
      client.commit(file.fileId, { version: 2, chunks: [good.hash, never.hash, asked.hash] }),
    );
    expect(error).toMatchObject({ code: "chunks_missing", details: { missing: [never.hash, asked.hash] } });
    expect(await client.getFile(file.fileId)).toMatchObject({ version: 1 });
    expect(await h.sql`SELECT 1 FROM chunk_objects WHERE hash = ${never.hash}`).toHaveLength(0);
  });
});

describe("download URLs", () => {
  it("are presigned GETs for chunks of the user's own files, old versions included", async () => {
    const { client } = await h.signUp();
    const v1 = await makeChunk("version one");
    const v2 = await makeChunk("version two");
    await uploadChunk(client, v1);
    await uploadChunk(client, v2);
    const file = await client.createFile({ parentId: null, name: "f", isFolder: false, chunks: [v1.hash] });
    await client.commit(file.fileId, { version: 2, chunks: [v2.hash] });
    const { urls } = await client.downloadUrls([v1.hash, v2.hash]);
    expect(Object.keys(urls).sort()).toEqual([v1.hash, v2.hash].sort());
    const body = new Uint8Array(await (await fetch(urls[v1.hash] ?? "")).arrayBuffer());
    expect(body).toEqual(v1.bytes);
    const unknown = await makeChunk("nobody has this");
    const error = await failure(client.downloadUrls([v1.hash, unknown.hash]));
    expect(error).toMatchObject({ code: "not_found", details: { missing: [unknown.hash] } });
  });

  it("are not given for chunks uploaded but not in any file", async () => {
    const { client } = await h.signUp();
    const loose = await makeChunk("uploaded, never committed");
    await uploadChunk(client, loose);
    expect((await failure(client.downloadUrls([loose.hash]))).code).toBe("not_found");
  });
});
