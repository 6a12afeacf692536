import { limits } from "@wsync/shared-protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { makeChunk, putChunk, uploadChunk } from "../testing/chunks.ts";
import { failure } from "../testing/failure.ts";
import { createHarness, type Harness } from "../testing/harness.ts";

// What a second user can try against the first one's files and chunks, beyond the per-route tests
// (routes/files.test.ts: commit/get/versions/move/delete/restore of another's file is not_found;
// routes/chunks.test.ts: knowing a hash gives no dedup, no commit, no download).

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ storage: "s3" });
});
afterAll(() => h?.close());
afterEach(() => void vi.useRealTimers());

async function aliceWithAFile() {
  const alice = await h.signUp();
  const chunk = await makeChunk(`alice's secret ${crypto.randomUUID()}`);
  await uploadChunk(alice.client, chunk);
  const folder = await alice.client.createFile({ parentId: null, name: "private", isFolder: true });
  const file = await alice.client.createFile({
    parentId: folder.fileId,
    name: "diary.txt",
    isFolder: false,
    chunks: [chunk.hash],
  });
  return { alice, chunk, folder, file };
}

describe("another user's files", () => {
  it("never appear in a user's changes feed, and cannot be a parent of the user's own files", async () => {
    const { folder, file } = await aliceWithAFile();
    const bob = await h.signUp();
    const mine = await bob.client.createFile({
      parentId: null,
      name: "mine.txt",
      isFolder: false,
      chunks: [],
    });

    const feed = await bob.client.changes();
    expect(feed.changes.map((c) => c.fileId)).toEqual([mine.fileId]);
    const moved = await failure(bob.client.moveFile(mine.fileId, { version: 2, parentId: folder.fileId }));
    expect(moved.code).toBe("not_found");
    // An id of a file (not a folder) of Alice's answers the same: existence is not leaked.
    const movedUnderFile = await failure(
      bob.client.moveFile(mine.fileId, { version: 2, parentId: file.fileId }),
    );
    expect(movedUnderFile.code).toBe("not_found");
    expect(await bob.client.getFile(mine.fileId)).toMatchObject({ version: 1, parentId: null });
    const [row] = await h.sql`SELECT count(*)::int AS n FROM files WHERE parent_id = ${folder.fileId}`;
    expect(row?.n).toBe(1);
  });
});

describe("another user's chunks", () => {
  it("asking about a chunk Alice has answers Bob exactly as for a chunk nobody has", async () => {
    const { chunk } = await aliceWithAFile();
    const bob = await h.signUp();
    const nobodys = await makeChunk(`nobody's ${crypto.randomUUID()}`);
    // Same length, so the only difference left would be whether Alice has it.
    const size = chunk.bytes.length;
    const shape = (answer: { uploadUrl: string | null; exists: boolean; uploadHeaders?: object }) => ({
      exists: answer.exists,
      hasUrl: typeof answer.uploadUrl === "string",
      headers: Object.keys(answer.uploadHeaders ?? {}).sort(),
      keys: Object.keys(answer).sort(),
    });
    const forAlices = await bob.client.uploadUrl({ chunkHash: chunk.hash, size });
    const forNobodys = await bob.client.uploadUrl({ chunkHash: nobodys.hash, size });
    expect(shape(forAlices)).toEqual(shape(forNobodys));
    expect(forAlices.exists).toBe(false);

    const { results } = await bob.client.uploadUrls({
      chunks: [
        { chunkHash: chunk.hash, size },
        { chunkHash: nobodys.hash, size },
      ],
    });
    const [a, n] = results;
    if (!a || !n) throw new Error("two answers expected");
    expect(shape(a)).toEqual(shape(n));

    const downloadAlices = await failure(bob.client.downloadUrls([chunk.hash]));
    const downloadNobodys = await failure(bob.client.downloadUrls([nobodys.hash]));
    expect({ code: downloadAlices.code, status: downloadAlices.status }).toEqual({
      code: downloadNobodys.code,
      status: downloadNobodys.status,
    });
    expect(downloadAlices.details).toEqual({ missing: [chunk.hash] });
    expect(downloadNobodys.details).toEqual({ missing: [nobodys.hash] });
  });
});

describe("presigned URLs", () => {
  it("an upload URL cannot store other bytes, a shorter body, or under another chunk's key", async () => {
    const { client } = await h.signUp();
    const wanted = await makeChunk(`wanted ${crypto.randomUUID()}`);
    const other = await makeChunk(`other! ${crypto.randomUUID()}`);
    const answer = await client.uploadUrl({ chunkHash: wanted.hash, size: wanted.bytes.length });
    const url = answer.uploadUrl ?? "";
    expect((await putChunk(url, answer.uploadHeaders, other.bytes)).ok).toBe(false);
    expect((await putChunk(url, answer.uploadHeaders, wanted.bytes.slice(0, -1))).ok).toBe(false);

    // The same signature on another key (path) is refused by the store, whatever headers are sent.
    const otherAnswer = await client.uploadUrl({ chunkHash: other.hash, size: other.bytes.length });
    const otherKey = (otherAnswer.uploadUrl ?? "").split("?")[0] ?? "";
    const moved = `${otherKey}?${url.split("?")[1]}`;
    expect((await putChunk(moved, answer.uploadHeaders, other.bytes)).ok).toBe(false);
    expect((await putChunk(moved, otherAnswer.uploadHeaders, other.bytes)).ok).toBe(false);

    // Nothing of the attempts counts as uploaded.
    const commit = await failure(
      client.createFile({ parentId: null, name: "f", isFolder: false, chunks: [wanted.hash, other.hash] }),
    );
    expect(commit).toMatchObject({ code: "chunks_missing", details: { missing: [wanted.hash, other.hash] } });
  });

  it("a download URL cannot be pointed at another chunk", async () => {
    const { client } = await h.signUp();
    const mine = await makeChunk(`mine ${crypto.randomUUID()}`);
    await uploadChunk(client, mine);
    await client.createFile({ parentId: null, name: "m", isFolder: false, chunks: [mine.hash] });
    const { chunk: alices } = await aliceWithAFile();
    const url = (await client.downloadUrls([mine.hash])).urls[mine.hash] ?? "";
    expect((await fetch(url)).ok).toBe(true);
    const hex = (hash: string) => hash.slice("sha256:".length);
    const retargeted = url.replace(hex(mine.hash), hex(alices.hash));
    expect(retargeted).not.toBe(url);
    const response = await fetch(retargeted);
    expect(response.status).toBe(403);
    expect(new Uint8Array(await response.arrayBuffer())).not.toEqual(alices.bytes);
  });

  it("URLs live about 15 minutes: one signed longer ago than that is refused by the store", async () => {
    const { client } = await h.signUp();
    const chunk = await makeChunk(`late ${crypto.randomUUID()}`);
    const fresh = await client.uploadUrl({ chunkHash: chunk.hash, size: chunk.bytes.length });
    expect(new URL(fresh.uploadUrl ?? "").searchParams.get("X-Amz-Expires")).toBe(
      String(limits.presignedUrlTtlSeconds),
    );
    expect(limits.presignedUrlTtlSeconds).toBeLessThanOrEqual(15 * 60);

    // Only Date is faked (timers stay real): the URL is signed as if 16 minutes ago.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() - (limits.presignedUrlTtlSeconds + 60) * 1000);
    const stale = await client.uploadUrl({ chunkHash: chunk.hash, size: chunk.bytes.length });
    vi.useRealTimers();
    const put = await putChunk(stale.uploadUrl ?? "", stale.uploadHeaders, chunk.bytes);
    expect(put.status).toBe(403);
    expect(
      (await failure(client.createFile({ parentId: null, name: "f", isFolder: false, chunks: [chunk.hash] })))
        .code,
    ).toBe("chunks_missing");

    await uploadChunk(client, chunk);
    await client.createFile({ parentId: null, name: "f", isFolder: false, chunks: [chunk.hash] });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() - (limits.presignedUrlTtlSeconds + 60) * 1000);
    const staleGet = (await client.downloadUrls([chunk.hash])).urls[chunk.hash] ?? "";
    vi.useRealTimers();
    expect((await fetch(staleGet)).status).toBe(403);
  });
});

describe("folder nesting", () => {
  it(`folders nest at most ${limits.folderDepthMax} deep, by create or by move; a refusal stores nothing`, async () => {
    const { client, userId } = await h.signUp();
    let parentId: string | null = null;
    const chain: string[] = [];
    for (let depth = 1; depth <= limits.folderDepthMax; depth++) {
      const folder = await client.createFile({ parentId, name: `d${depth}`, isFolder: true });
      chain.push(folder.fileId);
      parentId = folder.fileId;
    }
    const before = await client.changes();
    const tooDeep = await failure(client.createFile({ parentId, name: "deeper", isFolder: true }));
    expect(tooDeep).toMatchObject({ code: "validation_failed", status: 400 });
    const tooDeepFile = await failure(
      client.createFile({ parentId, name: "f", isFolder: false, chunks: [] }),
    );
    expect(tooDeepFile.code).toBe("validation_failed");

    // A two-level subtree moved under depth 63 would reach depth 65.
    const top = await client.createFile({ parentId: null, name: "top", isFolder: true });
    await client.createFile({ parentId: top.fileId, name: "inner", isFolder: true });
    const under = chain[limits.folderDepthMax - 2] ?? "";
    const move = await failure(client.moveFile(top.fileId, { version: 2, parentId: under }));
    expect(move.code).toBe("validation_failed");
    expect(await client.getFile(top.fileId)).toMatchObject({ version: 1, parentId: null });

    const after = await client.changes({ since: before.syncToken });
    expect(after.changes.map((c) => c.name)).toEqual(["top", "inner"]);
    const [row] =
      await h.sql`SELECT count(*)::int AS n FROM files WHERE owner_id = ${userId} AND name IN ('deeper', 'f')`;
    expect(row?.n).toBe(0);
  });
});
