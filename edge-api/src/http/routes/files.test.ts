import type { ApiClient } from "@wsync/shared-protocol";
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

async function uploaded(client: ApiClient, texts: string[]) {
  const chunks = await Promise.all(texts.map((text) => makeChunk(text)));
  for (const chunk of chunks) await uploadChunk(client, chunk);
  return chunks.map((c) => c.hash);
}

async function fileWith(client: ApiClient, name: string, texts: string[], parentId: string | null = null) {
  const chunks = await uploaded(client, texts);
  return { ...(await client.createFile({ parentId, name, isFolder: false, chunks })), chunks };
}

const folder = (client: ApiClient, name: string, parentId: string | null = null) =>
  client.createFile({ parentId, name, isFolder: true });

async function rowCounts(fileId: string) {
  const [row] = await h.sql`
    SELECT (SELECT count(*) FROM file_versions WHERE file_id = ${fileId})::int AS versions,
           (SELECT count(*) FROM changes WHERE file_id = ${fileId})::int AS changes,
           (SELECT count(*) FROM outbox WHERE event->>'fileId' = ${fileId})::int AS events`;
  return row;
}

describe("create and commit", () => {
  it("creates a file at version 1 with its uploaded content, and commits version 2", async () => {
    const { client } = await h.signUp();
    const created = await fileWith(client, "notes.txt", ["hello ", "world"]);
    expect(created.version).toBe(1);
    const file = await client.getFile(created.fileId);
    expect(file).toMatchObject({ name: "notes.txt", version: 1, size: 11, isFolder: false, deleted: false });
    expect(file.chunks).toEqual(created.chunks);

    const next = await uploaded(client, ["hello there!"]);
    const receipt = await client.commit(created.fileId, { version: 2, chunks: next });
    expect(receipt.version).toBe(2);
    expect(await client.getFile(created.fileId)).toMatchObject({ version: 2, size: 12, chunks: next });
    expect((await client.me()).storageUsed).toBe(12);
    expect(await checkInvariants(h.sql)).toEqual([]);
  });

  it("keeps the chunk order and repeated chunks of a version", async () => {
    const { client } = await h.signUp();
    const [a, b] = await uploaded(client, ["aaaa", "bb"]);
    if (!a || !b) throw new Error("no chunks");
    const created = await client.createFile({
      parentId: null,
      name: "r",
      isFolder: false,
      chunks: [b, a, b, a, a],
    });
    expect(await client.getFile(created.fileId)).toMatchObject({ size: 16, chunks: [b, a, b, a, a] });
    const empty = await client.createFile({ parentId: null, name: "empty", isFolder: false, chunks: [] });
    expect(await client.getFile(empty.fileId)).toMatchObject({ size: 0, chunks: [] });
    expect(await checkInvariants(h.sql)).toEqual([]);
  });

  it("a stale commit gets version_conflict with the current version and writes nothing", async () => {
    const { client } = await h.signUp();
    const created = await fileWith(client, "a.txt", ["one"]);
    const two = await uploaded(client, ["two"]);
    await client.commit(created.fileId, { version: 2, chunks: two });
    const before = await rowCounts(created.fileId);
    for (const version of [2, 1, 4]) {
      const error = await failure(client.commit(created.fileId, { version, chunks: created.chunks }));
      expect(error.code).toBe("version_conflict");
      expect(error.details).toEqual({ currentVersion: 2 });
    }
    expect(await rowCounts(created.fileId)).toEqual(before);
  });

  it("20 concurrent commits of the same next version: exactly one wins, nothing half-written", async () => {
    const { client, userId } = await h.signUp();
    const created = await fileWith(client, "race.txt", ["base"]);
    const contents = await uploaded(
      client,
      Array.from({ length: 20 }, (_, i) => `content of writer ${i} `.repeat(i + 1)),
    );
    const results = await Promise.allSettled(
      contents.map((chunk) => client.commit(created.fileId, { version: 2, chunks: [chunk] })),
    );
    const winners = results.filter((r) => r.status === "fulfilled");
    const losers = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(19);
    for (const error of losers)
      expect(error).toMatchObject({ code: "version_conflict", details: { currentVersion: 2 } });

    const winner = contents[results.findIndex((r) => r.status === "fulfilled")];
    const file = await client.getFile(created.fileId);
    expect(file).toMatchObject({ version: 2, chunks: [winner] });
    expect(await rowCounts(created.fileId)).toEqual({ versions: 2, changes: 2, events: 2 });
    const [user] = await h.sql`SELECT journal_seq, storage_used FROM users WHERE id = ${userId}`;
    expect(Number(user?.journal_seq)).toBe(2);
    expect(Number(user?.storage_used)).toBe(file.size);
    expect(await checkInvariants(h.sql)).toEqual([]);
  });

  it("a commit to a deleted file is file_deleted; to a folder validation_failed; to another user's not_found", async () => {
    const { client } = await h.signUp();
    const created = await fileWith(client, "gone.txt", ["x"]);
    await client.deleteFile(created.fileId, 2);
    const deleted = await failure(client.commit(created.fileId, { version: 3, chunks: created.chunks }));
    expect(deleted).toMatchObject({ code: "file_deleted", details: { currentVersion: 2 } });

    const dir = await folder(client, "dir");
    expect((await failure(client.commit(dir.fileId, { version: 2, chunks: [] }))).code).toBe(
      "validation_failed",
    );

    const other = await h.signUp();
    const theirs = await fileWith(other.client, "theirs.txt", ["y"]);
    const calls = [
      () => client.commit(theirs.fileId, { version: 2, chunks: [] }),
      () => client.getFile(theirs.fileId),
      () => client.listVersions(theirs.fileId),
      () => client.moveFile(theirs.fileId, { version: 2, name: "mine" }),
      () => client.deleteFile(theirs.fileId, 2),
      () => client.restore(theirs.fileId, { version: 2, fromVersion: 1 }),
      () => client.createFile({ parentId: theirs.fileId, name: "in", isFolder: false, chunks: [] }),
    ];
    for (const call of calls) expect((await failure(call())).code).toBe("not_found");
    expect(await other.client.getFile(theirs.fileId)).toMatchObject({ version: 1, name: "theirs.txt" });
  });
});

describe("names and the tree", () => {
  const badNames = [
    "",
    ".",
    "..",
    "a/b",
    "a\\b",
    "nul\u0000byte",
    "bell\u0007",
    "é".repeat(128),
    "x".repeat(256),
  ];

  it("refuses a name with /, \\, NUL or control characters, . or .., empty or over 255 bytes", async () => {
    const { client } = await h.signUp();
    const file = await fileWith(client, "ok.txt", ["ok"]);
    for (const name of badNames) {
      const onCreate = await failure(client.createFile({ parentId: null, name, isFolder: true }));
      expect(onCreate.code).toBe("validation_failed");
      expect(onCreate.details?.issues).toEqual([expect.objectContaining({ path: ["name"] })]);
      expect((await failure(client.moveFile(file.fileId, { version: 2, name }))).code).toBe(
        "validation_failed",
      );
    }
    expect(await client.getFile(file.fileId)).toMatchObject({ version: 1, name: "ok.txt" });
    // 255 bytes exactly is fine, as are names that only look odd.
    for (const name of ["x".repeat(255), "é".repeat(127), " spaced ", "...", ".hidden", "😀"]) {
      await folder(client, name);
    }
  });

  it("a live sibling with the same name is name_conflict naming it; a deleted one is not", async () => {
    const { client } = await h.signUp();
    const first = await fileWith(client, "same.txt", ["1"]);
    const error = await failure(
      client.createFile({ parentId: null, name: "same.txt", isFolder: false, chunks: [] }),
    );
    expect(error).toMatchObject({ code: "name_conflict", details: { fileId: first.fileId } });
    const other = await fileWith(client, "other.txt", ["2"]);
    const rename = await failure(client.moveFile(other.fileId, { version: 2, name: "same.txt" }));
    expect(rename).toMatchObject({ code: "name_conflict", details: { fileId: first.fileId } });
    await client.deleteFile(first.fileId, 2);
    await client.moveFile(other.fileId, { version: 2, name: "same.txt" });
  });

  it("rename and move are versions with the same content", async () => {
    const { client } = await h.signUp();
    const dir = await folder(client, "docs");
    const file = await fileWith(client, "draft.txt", ["draft"]);
    await client.moveFile(file.fileId, { version: 2, name: "final.txt", parentId: dir.fileId });
    expect(await client.getFile(file.fileId)).toMatchObject({
      version: 2,
      name: "final.txt",
      parentId: dir.fileId,
      chunks: file.chunks,
      size: 5,
    });
    const { versions } = await client.listVersions(file.fileId);
    expect(versions.map((v) => [v.version, v.action, v.name, v.parentId])).toEqual([
      [2, "moved", "final.txt", dir.fileId],
      [1, "created", "draft.txt", null],
    ]);
    expect(versions[0]?.deviceName).toBe("laptop");
    expect(await checkInvariants(h.sql)).toEqual([]);
  });

  it("a folder moved into itself or a descendant is validation_failed and stays put", async () => {
    const { client } = await h.signUp();
    const a = await folder(client, "a");
    const b = await folder(client, "b", a.fileId);
    const c = await folder(client, "c", b.fileId);
    for (const target of [a.fileId, b.fileId, c.fileId]) {
      const error = await failure(client.moveFile(a.fileId, { version: 2, parentId: target }));
      expect(error.code).toBe("validation_failed");
    }
    const file = await fileWith(client, "f", ["f"]);
    expect((await failure(client.moveFile(c.fileId, { version: 2, parentId: file.fileId }))).code).toBe(
      "validation_failed",
    );
    expect(await client.getFile(a.fileId)).toMatchObject({ version: 1, parentId: null });
    await client.moveFile(c.fileId, { version: 2, parentId: null });
  });

  it("deleting a folder deletes everything under it, each as a version", async () => {
    const { client } = await h.signUp();
    const top = await folder(client, "top");
    const sub = await folder(client, "sub", top.fileId);
    const deep = await fileWith(client, "deep.txt", ["deep"], sub.fileId);
    const shallow = await fileWith(client, "shallow.txt", ["shallow"], top.fileId);
    const outside = await fileWith(client, "outside.txt", ["out"]);
    const receipt = await client.deleteFile(top.fileId, 2);
    expect(receipt.version).toBe(2);
    for (const id of [top.fileId, sub.fileId, deep.fileId, shallow.fileId]) {
      const file = await client.getFile(id);
      expect(file).toMatchObject({ deleted: true, version: 2 });
      expect((await client.listVersions(id)).versions[0]?.action).toBe("deleted");
    }
    expect(await client.getFile(outside.fileId)).toMatchObject({ deleted: false });
    expect((await client.me()).storageUsed).toBe(3);
    const stale = await failure(client.deleteFile(outside.fileId, 3));
    expect(stale).toMatchObject({ code: "version_conflict", details: { currentVersion: 1 } });
    const intoDeleted = await failure(client.createFile({ parentId: sub.fileId, name: "n", isFolder: true }));
    expect(intoDeleted.code).toBe("file_deleted");
    expect(await checkInvariants(h.sql)).toEqual([]);
  });

  it("restore makes the old content the new version; a deleted file comes back with its folders", async () => {
    const { client } = await h.signUp();
    const dir = await folder(client, "dir");
    const file = await fileWith(client, "f.txt", ["v1"], dir.fileId);
    await client.commit(file.fileId, { version: 2, chunks: await uploaded(client, ["version two"]) });
    await client.restore(file.fileId, { version: 3, fromVersion: 1 });
    expect(await client.getFile(file.fileId)).toMatchObject({ version: 3, chunks: file.chunks, size: 2 });
    expect((await client.listVersions(file.fileId)).versions[0]?.action).toBe("modified");

    await client.deleteFile(dir.fileId, 2);
    expect((await failure(client.restore(file.fileId, { version: 4, fromVersion: 2 }))).code).toBe(
      "version_conflict",
    );
    const back = await client.restore(file.fileId, { version: 5, fromVersion: 2 });
    expect(back.version).toBe(5);
    expect(await client.getFile(file.fileId)).toMatchObject({
      deleted: false,
      parentId: dir.fileId,
      size: 11,
    });
    expect(await client.getFile(dir.fileId)).toMatchObject({ deleted: false, version: 3 });
    expect((await client.listVersions(file.fileId)).versions[0]?.action).toBe("created");
    expect((await failure(client.restore(file.fileId, { version: 6, fromVersion: 99 }))).code).toBe(
      "not_found",
    );
    expect((await client.me()).storageUsed).toBe(11);
    expect(await checkInvariants(h.sql)).toEqual([]);
  });

  it("restoring a deleted folder brings back what its delete took, not what was deleted before", async () => {
    const { client } = await h.signUp();
    const dir = await folder(client, "dir");
    const kept = await fileWith(client, "kept.txt", ["k"], dir.fileId);
    const earlier = await fileWith(client, "earlier.txt", ["e"], dir.fileId);
    await client.deleteFile(earlier.fileId, 2);
    await client.deleteFile(dir.fileId, 2);
    await client.restore(dir.fileId, { version: 3, fromVersion: 1 });
    expect(await client.getFile(kept.fileId)).toMatchObject({ deleted: false, version: 3 });
    expect(await client.getFile(earlier.fileId)).toMatchObject({ deleted: true, version: 2 });
    expect(await checkInvariants(h.sql)).toEqual([]);
  });
});

describe("quota", () => {
  it("a commit that would pass storageQuota is quota_exceeded and writes nothing", async () => {
    const small = await createHarness({ storage: h.deps.storage, config: { storageQuotaBytes: 20 } });
    try {
      const { client } = await small.signUp();
      const file = await fileWith(client, "f", ["0123456789"]);
      const big = await uploaded(client, ["this is more than twenty bytes"]);
      const error = await failure(client.commit(file.fileId, { version: 2, chunks: big }));
      expect(error.code).toBe("quota_exceeded");
      expect(error.status).toBe(507);
      expect(await client.getFile(file.fileId)).toMatchObject({ version: 1, size: 10 });
      expect(await client.me()).toMatchObject({ storageQuota: 20, storageUsed: 10 });
      const second = await failure(
        client.createFile({ parentId: null, name: "g", isFolder: false, chunks: big }),
      );
      expect(second.code).toBe("quota_exceeded");
      // Shrinking is always allowed, and frees room.
      await client.commit(file.fileId, { version: 2, chunks: await uploaded(client, ["tiny"]) });
      expect((await client.me()).storageUsed).toBe(4);
      expect(await checkInvariants(small.sql)).toEqual([]);
    } finally {
      await small.close();
    }
  });
});
