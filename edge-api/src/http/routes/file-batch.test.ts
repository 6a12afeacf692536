import {
  type ApiClient,
  type CreateFileBatchResult,
  decodeSyncToken,
  IDEMPOTENCY_KEY_HEADER,
  routes,
} from "@wsync/shared-protocol";
import fc from "fast-check";
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

const codeOf = (result: CreateFileBatchResult | undefined) =>
  result && "error" in result ? result.error.code : "created";

async function fileCount(userId: string) {
  const [row] = await h.sql`SELECT count(*)::int AS n FROM files WHERE owner_id = ${userId}`;
  return row?.n as number;
}

describe("POST /files/batch", () => {
  it("creates every item in one transaction: receipts in order, one change each in item order", async () => {
    const { client } = await h.signUp();
    const folder = await client.createFile({ parentId: null, name: "src", isFolder: true });
    const texts = Array.from({ length: 30 }, (_, i) => `content of file ${i}`);
    const hashes = await uploaded(client, texts);
    const creates = hashes.map((hash, i) => ({
      parentId: folder.fileId,
      name: `f${i}.txt`,
      isFolder: false,
      chunks: [hash],
    }));
    const { results } = await client.createFiles({
      creates: [...creates, { parentId: null, name: "docs", isFolder: true }],
    });
    expect(results.map(codeOf)).toEqual(Array(31).fill("created"));
    for (const [i, result] of results.slice(0, 30).entries()) {
      if (!("fileId" in result)) throw new Error("not created");
      expect(result.version).toBe(1);
      expect(await client.getFile(result.fileId)).toMatchObject({
        name: `f${i}.txt`,
        parentId: folder.fileId,
        version: 1,
        size: texts[i]?.length,
        chunks: [hashes[i]],
      });
    }
    const page = await client.changes();
    const ids = results.map((r) => ("fileId" in r ? r.fileId : ""));
    expect(page.changes.map((c) => c.fileId)).toEqual([folder.fileId, ...ids]);
    expect(page.changes.every((c) => c.action === "created")).toBe(true);
    expect(decodeSyncToken(page.syncToken)).toBe(32n);
    const [events] = await h.sql`
      SELECT count(*)::int AS n FROM outbox WHERE event->>'fileId' = ANY(${ids}::text[])`;
    expect(events?.n).toBe(31);
    const total = texts.reduce((sum, t) => sum + t.length, 0);
    expect((await client.me()).storageUsed).toBe(total);
    expect(await checkInvariants(h.sql)).toEqual([]);
  });

  it("a refused item writes nothing and does not stop the others; each gets the single create's answer", async () => {
    const { client, userId } = await h.signUp();
    const folder = await client.createFile({ parentId: null, name: "dir", isFolder: true });
    const gone = await client.createFile({ parentId: null, name: "gone", isFolder: true });
    await client.deleteFile(gone.fileId, 2);
    const file = await client.createFile({ parentId: null, name: "taken", isFolder: false, chunks: [] });
    const [good] = await uploaded(client, ["good bytes"]);
    const neverUploaded = (await makeChunk("never uploaded")).hash;
    if (!good) throw new Error("no chunk");
    const before = await fileCount(userId);
    const { results } = await client.createFiles({
      creates: [
        { parentId: null, name: "taken", isFolder: false, chunks: [good] },
        { parentId: folder.fileId, name: "a", isFolder: false, chunks: [good] },
        { parentId: folder.fileId, name: "a", isFolder: true },
        { parentId: "not-a-uuid", name: "b", isFolder: true },
        { parentId: crypto.randomUUID(), name: "c", isFolder: true },
        { parentId: file.fileId, name: "d", isFolder: true },
        { parentId: gone.fileId, name: "e", isFolder: true },
        { parentId: folder.fileId, name: "m", isFolder: false, chunks: [good, neverUploaded] },
        { parentId: folder.fileId, name: "m", isFolder: true },
      ],
    });
    expect(results.map(codeOf)).toEqual([
      "name_conflict",
      "created",
      "name_conflict",
      "not_found",
      "not_found",
      "validation_failed",
      "file_deleted",
      "chunks_missing",
      // The name was free: the item before it that wanted it was refused.
      "created",
    ]);
    const details = (i: number) => {
      const result = results[i];
      return result && "error" in result ? result.error.details : undefined;
    };
    expect(details(0)).toEqual({ fileId: file.fileId });
    const created = results[1];
    expect(details(2)).toEqual({ fileId: created && "fileId" in created ? created.fileId : "?" });
    expect(details(6)).toMatchObject({ fileId: gone.fileId });
    expect(details(7)).toEqual({ missing: [neverUploaded] });
    expect(await fileCount(userId)).toBe(before + 2);
    expect((await client.me()).storageUsed).toBe("good bytes".length);
    expect(await checkInvariants(h.sql)).toEqual([]);
  });

  it("a batch past the quota creates the items that fit, in order, and refuses the rest", async () => {
    const small = await createHarness({ storage: h.deps.storage, config: { storageQuotaBytes: 25 } });
    try {
      const { client } = await small.signUp();
      const hashes = await uploaded(client, ["0123456789", "abcdefghij", "ABCDEFGHIJ", "xyz"]);
      const { results } = await client.createFiles({
        creates: hashes.map((hash, i) => ({
          parentId: null,
          name: `q${i}`,
          isFolder: false,
          chunks: [hash],
        })),
      });
      expect(results.map(codeOf)).toEqual(["created", "created", "quota_exceeded", "created"]);
      expect(await client.me()).toMatchObject({ storageQuota: 25, storageUsed: 23 });
      expect(await checkInvariants(small.sql)).toEqual([]);
    } finally {
      await small.close();
    }
  });

  it("with an Idempotency-Key a retry gets the first answer and creates nothing twice", async () => {
    const { client, userId, token } = await h.signUp();
    const body = JSON.stringify({ creates: [{ parentId: null, name: "once", isFolder: true }] });
    const send = (payload: string) =>
      h.app.request(routes.filesBatch, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          [IDEMPOTENCY_KEY_HEADER]: "batch-key-1",
        },
        body: payload,
      });
    const first = await send(body);
    expect(first.status).toBe(200);
    const again = await send(body);
    expect(again.status).toBe(200);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await again.json()).toEqual(await first.json());
    expect(await fileCount(userId)).toBe(1);
    const other = await send(
      JSON.stringify({ creates: [{ parentId: null, name: "other", isFolder: true }] }),
    );
    expect(other.status).toBe(422);
    expect(await fileCount(userId)).toBe(1);
    // Without a key, the same batch again is a name conflict: the first one did create the folder.
    const { results } = await client.createFiles({
      creates: [{ parentId: null, name: "once", isFolder: true }],
    });
    expect(codeOf(results[0])).toBe("name_conflict");
  });

  it("an empty chunk list makes an empty file; a folder with chunks is validation_failed for the whole body", async () => {
    const { client, userId } = await h.signUp();
    const { results } = await client.createFiles({
      creates: [{ parentId: null, name: "empty", isFolder: false }],
    });
    expect(codeOf(results[0])).toBe("created");
    const [hash] = await uploaded(client, ["x"]);
    const error = await failure(
      client.createFiles({
        creates: [
          { parentId: null, name: "ok", isFolder: true },
          { parentId: null, name: "bad", isFolder: true, chunks: [hash as never] },
        ],
      }),
    );
    expect(error.code).toBe("validation_failed");
    expect(await fileCount(userId)).toBe(1);
  });

  it("answers each item exactly as single creates sent one after another would (property)", async () => {
    type Parent = "root" | "folder" | "file" | "deleted" | "unknown";
    const item = fc.record({
      parent: fc.constantFrom<Parent>("root", "folder", "folder", "file", "deleted", "unknown"),
      name: fc.constantFrom("a", "b", "c", "taken"),
      isFolder: fc.boolean(),
      chunk: fc.constantFrom("uploaded", "missing", "none"),
    });
    const missing = (await makeChunk("missing everywhere")).hash;
    const setUp = async () => {
      const { client, userId } = await h.signUp();
      const folder = await client.createFile({ parentId: null, name: "folder", isFolder: true });
      await client.createFile({ parentId: folder.fileId, name: "taken", isFolder: true });
      await client.createFile({ parentId: null, name: "taken", isFolder: true });
      const file = await client.createFile({ parentId: null, name: "file", isFolder: false, chunks: [] });
      const deleted = await client.createFile({ parentId: null, name: "deleted", isFolder: true });
      await client.deleteFile(deleted.fileId, 2);
      // Bytes of its own: another account's upload of the same chunk would retag the object.
      const [uploadedHash] = await uploaded(client, [`uploaded chunk ${crypto.randomUUID()}`]);
      const parents: Record<Parent, string | null> = {
        root: null,
        folder: folder.fileId,
        file: file.fileId,
        deleted: deleted.fileId,
        unknown: crypto.randomUUID(),
      };
      return { client, userId, parents, uploadedHash };
    };
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 8 }), async (items) => {
        const [batch, single] = await Promise.all([setUp(), setUp()]);
        const bodyOf = (s: typeof batch, i: (typeof items)[number]) => ({
          parentId: s.parents[i.parent],
          name: i.name,
          isFolder: i.isFolder,
          ...(i.isFolder || i.chunk === "none"
            ? {}
            : { chunks: [i.chunk === "uploaded" ? (s.uploadedHash as never) : missing] }),
        });
        const { results } = await batch.client.createFiles({ creates: items.map((i) => bodyOf(batch, i)) });
        const expected: string[] = [];
        for (const i of items) {
          try {
            await single.client.createFile(bodyOf(single, i));
            expected.push("created");
          } catch (error) {
            expected.push((await failure(Promise.reject(error))).code);
          }
        }
        expect(results.map(codeOf)).toEqual(expected);
        expect(await fileCount(batch.userId)).toBe(await fileCount(single.userId));
      }),
      { numRuns: 12 },
    );
    expect(await checkInvariants(h.sql)).toEqual([]);
  });
});
