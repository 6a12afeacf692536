import { IDEMPOTENCY_KEY_HEADER, limits, routes } from "@wsync/shared-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure } from "../testing/failure.ts";
import { createHarness, type Harness, unusedStorage } from "../testing/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ storage: unusedStorage });
});
afterAll(() => h?.close());

describe("health", () => {
  it("/healthz answers; /readyz is service_unavailable when the store cannot be reached", async () => {
    expect((await h.app.request("/healthz")).status).toBe(200);
    const ready = await h.app.request("/readyz");
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      error: { code: "service_unavailable", details: { database: true, storage: false } },
    });
  });
});

describe("the OpenAPI document", () => {
  it("is served without a token and documents every endpoint of the contract and the extensions", async () => {
    const response = await h.app.request(routes.openapi);
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { "x-wsync-extension"?: boolean; parameters: { name: string }[] }>
      >;
      components: { schemas: Record<string, unknown> };
    };
    expect(document.openapi).toBe("3.1.0");
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations).toEqual(
      expect.arrayContaining([
        "POST /api/v1/auth/register",
        "POST /api/v1/auth/login",
        "GET /api/v1/devices",
        "DELETE /api/v1/devices/{deviceId}",
        "GET /api/v1/me",
        "POST /api/v1/files",
        "POST /api/v1/files/upload-url",
        "POST /api/v1/files/upload-urls",
        "POST /api/v1/files/{fileId}/commit",
        "GET /api/v1/files/{fileId}",
        "PATCH /api/v1/files/{fileId}",
        "DELETE /api/v1/files/{fileId}",
        "GET /api/v1/files/{fileId}/versions",
        "POST /api/v1/files/{fileId}/restore",
        "POST /api/v1/chunks/download-urls",
        "GET /api/v1/files/changes",
      ]),
    );
    expect(document.paths["/api/v1/files/upload-urls"]?.post?.["x-wsync-extension"]).toBe(true);
    const commitParameters = document.paths["/api/v1/files/{fileId}/commit"]?.post?.parameters ?? [];
    expect(commitParameters.map((p) => p.name)).toContain(IDEMPOTENCY_KEY_HEADER);
    const commit = JSON.stringify(document.paths["/api/v1/files/{fileId}/commit"]?.post);
    expect(commit).toContain("same database transaction as the change");
    expect(commit).toContain("Idempotent-Replayed");
    expect(document.components.schemas.UploadUrlBatchRequest).toMatchObject({ type: "object" });
    expect(JSON.stringify(document.components.schemas.CommitRequest)).toContain("^sha256:[0-9a-f]{64}$");
  });
});

describe("errors", () => {
  it("a body over limits.bodyMaxBytes is payload_too_large", async () => {
    const { token } = await h.signUp();
    const body = JSON.stringify({ version: 2, chunks: ["x".repeat(limits.bodyMaxBytes)] });
    const response = await h.app.request(routes.files, {
      method: "POST",
      body,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    });
    expect(response.status).toBe(413);
    expect((await response.json()).error.code).toBe("payload_too_large");
  });

  it("malformed JSON is validation_failed; an unknown route is not_found, both as envelopes", async () => {
    const { token } = await h.signUp();
    const headers = { authorization: `Bearer ${token}` };
    const malformed = await h.app.request(routes.files, { method: "POST", body: "{nope", headers });
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error).toMatchObject({
      code: "validation_failed",
      details: { issues: expect.any(Array) },
    });
    const unknown = await h.app.request("/api/v1/nothing-here", { headers });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe("not_found");
  });

  it("a server error is a bare 500 internal: no SQL, no stack; the details go to the log only", async () => {
    const broken = await createHarness({ storage: unusedStorage });
    try {
      const { client, token } = await broken.signUp();
      await broken.sql`ALTER TABLE files RENAME TO files_moved_away`;
      const response = await broken.app.request(routes.file(crypto.randomUUID()), {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({ error: { code: "internal", message: "internal server error" } });
      expect(text).not.toMatch(/files|relation|select|at .*\.ts/i);
      expect(broken.logs).toContainEqual(expect.objectContaining({ level: "error", msg: "unhandled error" }));
      // The process keeps serving what does not need the broken table.
      expect((await client.me()).storageUsed).toBe(0);
    } finally {
      await broken.close();
    }
  });
});

describe("Idempotency-Key", () => {
  it("a retried create gets the first answer again and creates one folder", async () => {
    const { client } = await h.signUp();
    const key = `create-${crypto.randomUUID()}`;
    const first = await client.createFile(
      { parentId: null, name: "once", isFolder: true },
      { idempotencyKey: key },
    );
    const again = await client.createFile(
      { parentId: null, name: "once", isFolder: true },
      { idempotencyKey: key },
    );
    expect(again).toEqual(first);
    const { changes } = await client.changes();
    expect(changes.filter((c) => c.name === "once")).toHaveLength(1);
  });

  it("the same key for a different request is idempotency_key_reused; a failed request frees its key", async () => {
    const { client } = await h.signUp();
    const key = `key-${crypto.randomUUID()}`;
    const folder = await client.createFile(
      { parentId: null, name: "a", isFolder: true },
      { idempotencyKey: key },
    );
    const reused = await failure(
      client.createFile({ parentId: null, name: "b", isFolder: true }, { idempotencyKey: key }),
    );
    expect(reused.code).toBe("idempotency_key_reused");

    const other = `key-${crypto.randomUUID()}`;
    const stale = await failure(
      client.moveFile(folder.fileId, { version: 5, name: "c" }, { idempotencyKey: other }),
    );
    expect(stale.code).toBe("version_conflict");
    const moved = await client.moveFile(folder.fileId, { version: 2, name: "c" }, { idempotencyKey: other });
    expect(moved.version).toBe(2);
    const badKey = await failure(
      client.createFile(
        { parentId: null, name: "d", isFolder: true },
        { idempotencyKey: "no spaces allowed" },
      ),
    );
    expect(badKey.code).toBe("validation_failed");
  });

  it("keys are per account", async () => {
    const alice = await h.signUp();
    const bob = await h.signUp();
    const key = `shared-${crypto.randomUUID()}`;
    const a = await alice.client.createFile(
      { parentId: null, name: "x", isFolder: true },
      { idempotencyKey: key },
    );
    const b = await bob.client.createFile(
      { parentId: null, name: "x", isFolder: true },
      { idempotencyKey: key },
    );
    expect(b.fileId).not.toBe(a.fileId);
  });
});
