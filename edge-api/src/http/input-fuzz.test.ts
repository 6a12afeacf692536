import {
  CreateFileBatchResponse,
  ErrorEnvelope,
  errorStatus,
  fileNameProblem,
  limits,
  routes,
} from "@wsync/shared-protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../testing/harness.ts";

/**
 * Property tests: whatever a client sends (malformed JSON, wrong types, huge arrays, bad hashes, odd
 * Unicode, oversized bodies), the answer is a 4xx error envelope whose status matches its code,
 * never a 500, and a refused request writes nothing.
 */

let h: Harness;
let token: string;
let fileId: string;
let folderId: string;
let otherUsersFileId: string;

beforeAll(async () => {
  h = await createHarness({ storage: "s3" });
  const me = await h.signUp();
  token = me.token;
  folderId = (await me.client.createFile({ parentId: null, name: "folder", isFolder: true })).fileId;
  fileId = (await me.client.createFile({ parentId: folderId, name: "file", isFolder: false, chunks: [] }))
    .fileId;
  const other = await h.signUp();
  otherUsersFileId = (await other.client.createFile({ parentId: null, name: "theirs", isFolder: true }))
    .fileId;
});
afterAll(() => h?.close());

const runs = { numRuns: 40 };

async function snapshot() {
  const [row] = await h.sql`
    SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM devices WHERE revoked_at IS NULL) AS devices,
      (SELECT count(*) FROM files) AS files, (SELECT count(*) FROM file_versions) AS versions,
      (SELECT count(*) FROM file_chunks) AS file_chunks, (SELECT count(*) FROM changes) AS changes,
      (SELECT count(*) FROM outbox) AS outbox, (SELECT coalesce(sum(journal_seq), 0) FROM users) AS journal,
      (SELECT coalesce(sum(storage_used), 0) FROM users) AS used, (SELECT count(*) FROM chunk_objects) AS chunks,
      (SELECT count(*) FROM chunk_owners) AS owners, (SELECT count(*) FROM chunk_uploads) AS uploads,
      (SELECT coalesce(sum(reference_count), 0) FROM chunk_owners) AS refs,
      (SELECT count(*) FROM idempotency_keys) AS keys`;
  return row;
}

/** Sends a request; when refused, checks the envelope and that nothing changed. Returns the status. */
async function send(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const before = await snapshot();
  const response = await h.app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  expect(response.status, `${method} ${path} ${text}`).toBeLessThan(500);
  if (response.status >= 400) {
    const envelope = ErrorEnvelope.parse(JSON.parse(text));
    expect(errorStatus[envelope.error.code]).toBe(response.status);
    expect(await snapshot()).toEqual(before);
  }
  return response.status;
}

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const badHash = fc.oneof(
  hex64,
  hex64.map((hex) => `sha256:${hex.toUpperCase()}`),
  hex64.map((hex) => `sha256:${hex.slice(1)}`),
  hex64.map((hex) => `sha256:${hex}0`),
  hex64.map((hex) => `sha1:${hex}`),
  fc.string().map((s) => `sha256:${s}`),
);
const oddString = fc.oneof(
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: "binary" }),
  fc.constantFrom(
    "",
    ".",
    "..",
    "a/b",
    "a\\b",
    "\u0000",
    "\u202e",
    "\ufeff",
    "x".repeat(300),
    "é".repeat(200),
  ),
);
const weird: fc.Arbitrary<unknown> = fc.oneof(
  oddString,
  badHash,
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.constantFrom(-1, 0, 2 ** 31, 2 ** 53 + 2, 1e308, -0, 1.5),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(badHash, fc.integer(), fc.constant(null)), { maxLength: 5 }),
  fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
);

/** Bodies shaped like the endpoint's (its field names) with every value chosen adversarially. */
function bodies(fields: string[]): fc.Arbitrary<string> {
  const shaped = fc
    .record(Object.fromEntries(fields.map((field) => [field, weird])), { requiredKeys: [] })
    .map((body) => JSON.stringify(body));
  return fc.oneof(
    shaped,
    fc.string(),
    fc.jsonValue().map((value) => JSON.stringify(value)),
    fc.constantFrom("", "{", "[]", "null", '{"__proto__": {"admin": true}}', '{"version": 1e999}'),
  );
}

const endpoints: { method: string; path: () => string; fields: string[] }[] = [
  { method: "POST", path: () => routes.register, fields: ["email", "password", "deviceName"] },
  { method: "POST", path: () => routes.login, fields: ["email", "password", "deviceName"] },
  {
    method: "POST",
    path: () => routes.files,
    fields: ["parentId", "name", "isFolder", "chunks", "executable"],
  },
  { method: "POST", path: () => routes.filesBatch, fields: ["creates"] },
  { method: "POST", path: () => routes.uploadUrl, fields: ["fileId", "chunkHash", "size"] },
  { method: "POST", path: () => routes.uploadUrls, fields: ["fileId", "chunks"] },
  { method: "POST", path: () => routes.commit(fileId), fields: ["version", "chunks", "executable"] },
  { method: "PATCH", path: () => routes.file(fileId), fields: ["version", "name", "parentId"] },
  { method: "PATCH", path: () => routes.file(folderId), fields: ["version", "name", "parentId"] },
  { method: "POST", path: () => routes.restore(fileId), fields: ["version", "fromVersion"] },
  { method: "POST", path: () => routes.downloadUrls, fields: ["hashes"] },
];

describe("malformed input at every endpoint", () => {
  for (const endpoint of endpoints) {
    it(`${endpoint.method} ${endpoint.path().replace(/[0-9a-f-]{36}/, "{id}")}: always a 4xx envelope, never a write`, async () => {
      await fc.assert(
        fc.asyncProperty(bodies(endpoint.fields), async (body) => {
          await send(endpoint.method, endpoint.path(), body);
        }),
        runs,
      );
    });
  }

  it("POST /files/batch: any list of items is a 4xx envelope that writes nothing, or one result per item", async () => {
    const item = fc.oneof(
      fc.record(
        {
          parentId: fc.oneof(weird, fc.constant(folderId)),
          name: weird,
          isFolder: weird,
          chunks: weird,
          executable: weird,
        },
        { requiredKeys: [] },
      ),
      fc.record({
        parentId: fc.constantFrom(null, folderId, fileId, otherUsersFileId, "nope", crypto.randomUUID()),
        name: fc.oneof(oddString, fc.constantFrom("a", "b", "file")),
        isFolder: fc.boolean(),
        chunks: fc.option(fc.array(badHash, { maxLength: 2 }), { nil: undefined }),
        executable: fc.option(fc.boolean(), { nil: undefined }),
      }),
      weird,
    );
    await fc.assert(
      fc.asyncProperty(fc.array(item, { maxLength: 6 }), async (creates) => {
        const [before] = await h.sql`SELECT count(*)::int AS n FROM files`;
        const response = await h.app.request(routes.filesBatch, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ creates }),
        });
        const text = await response.text();
        expect(response.status, text).toBeLessThan(500);
        const [after] = await h.sql`SELECT count(*)::int AS n FROM files`;
        if (response.status >= 400) {
          expect(errorStatus[ErrorEnvelope.parse(JSON.parse(text)).error.code]).toBe(response.status);
          expect(after).toEqual(before);
          return;
        }
        const { results } = CreateFileBatchResponse.parse(JSON.parse(text));
        expect(results).toHaveLength(creates.length);
        const receipts = results.filter((r) => "fileId" in r);
        for (const r of results) if ("error" in r) expect(errorStatus[r.error.code]).toBeLessThan(500);
        expect((after?.n ?? 0) - (before?.n ?? 0)).toBe(receipts.length);
      }),
      runs,
    );
  });

  it("odd path ids and query strings on every route with a parameter", async () => {
    const id = fc.oneof(
      oddString,
      fc.uuid(),
      fc.constantFrom(otherUsersFileId, "changes", "%00", "..", "upload-url"),
    );
    const query = fc.oneof(
      oddString,
      fc.integer().map(String),
      fc.constantFrom("c1.zzzzzzzzzzzzz", "c1.-1", "1e9"),
    );
    await fc.assert(
      fc.asyncProperty(id, query, async (raw, value) => {
        const encoded = encodeURIComponent(raw);
        const q = encodeURIComponent(value);
        await send("GET", `/api/v1/files/${encoded}`);
        await send("GET", `/api/v1/files/${encoded}/versions`);
        await send("DELETE", `/api/v1/files/${encoded}?version=${q}`);
        await send("DELETE", `${routes.file(fileId)}?version=${q}`);
        await send("POST", `/api/v1/files/${encoded}/commit`, JSON.stringify({ version: 2, chunks: [] }));
        await send("DELETE", `/api/v1/devices/${encoded}`);
        await send("GET", `${routes.changes}?since=${q}&limit=${q}`);
      }),
      runs,
    );
  });

  it("any bearer token that is not a live device's is unauthorized", async () => {
    const bearer = fc.oneof(
      fc.string(),
      fc.uuid().map((u) => `wsd1.${u}.${u}.${"A".repeat(43)}`),
      fc.constant(token.slice(0, -2)),
      fc.constant(`${token}x`),
    );
    await fc.assert(
      fc.asyncProperty(bearer, async (value) => {
        const response = await h.app.request(routes.me, { headers: { authorization: `Bearer ${value}` } });
        expect(response.status).toBe(401);
        expect(ErrorEnvelope.parse(await response.json()).error.code).toBe("unauthorized");
      }),
      runs,
    );
  });

  it("a name is accepted exactly when it is one valid path segment, and comes back unchanged", async () => {
    await fc.assert(
      fc.asyncProperty(oddString, async (name) => {
        const status = await send(
          "POST",
          routes.files,
          JSON.stringify({ parentId: folderId, name, isFolder: true }),
        );
        const problem = fileNameProblem(name);
        if (problem) expect(status).toBe(400);
        else expect([201, 409]).toContain(status);
        if (status === 201) {
          const [row] = await h.sql`SELECT name FROM files WHERE parent_id = ${folderId} AND name = ${name}`;
          expect(row?.name).toBe(name);
        }
      }),
      { numRuns: 80 },
    );
  });

  it("huge arrays: more chunks or hashes than the limits is validation_failed", async () => {
    const hash = `sha256:${"a".repeat(64)}`;
    const tooMany = Array.from({ length: limits.chunksPerVersionMax + 1 }, () => hash);
    expect(await send("POST", routes.commit(fileId), JSON.stringify({ version: 2, chunks: tooMany }))).toBe(
      400,
    );
    const batch = Array.from({ length: limits.batchMax + 1 }, () => ({ chunkHash: hash, size: 1 }));
    expect(await send("POST", routes.uploadUrls, JSON.stringify({ chunks: batch }))).toBe(400);
    const hashes = Array.from({ length: limits.batchMax + 1 }, () => hash);
    expect(await send("POST", routes.downloadUrls, JSON.stringify({ hashes }))).toBe(400);
  });

  it("a batch create over its limits is payload_too_large: too many items, or too many chunks in all", async () => {
    const hash = `sha256:${"a".repeat(64)}`;
    const item = (i: number) => ({ parentId: null, name: `n${i}`, isFolder: true });
    const tooMany = Array.from({ length: limits.createBatchMax + 1 }, (_, i) => item(i));
    expect(await send("POST", routes.filesBatch, JSON.stringify({ creates: tooMany }))).toBe(413);
    const perItem = Math.ceil((limits.createBatchChunksMax + 1) / 2);
    const chunky = [0, 1].map((i) => ({
      parentId: null,
      name: `c${i}`,
      isFolder: false,
      chunks: Array(perItem).fill(hash),
    }));
    expect(await send("POST", routes.filesBatch, JSON.stringify({ creates: chunky }))).toBe(413);
    expect(await send("POST", routes.filesBatch, JSON.stringify({ creates: [] }))).toBe(400);
  });

  it("oversized bodies are payload_too_large at every endpoint that reads one", async () => {
    const big = JSON.stringify({ name: "x".repeat(limits.bodyMaxBytes) });
    for (const endpoint of endpoints) expect(await send(endpoint.method, endpoint.path(), big)).toBe(413);
  });
});
