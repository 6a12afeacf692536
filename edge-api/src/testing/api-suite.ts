import { ApiClient, type ApiError, ErrorEnvelope, limits, routes } from "@wsync/shared-protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeChunk, putChunk, uploadChunk } from "./chunks.ts";
import { failure } from "./failure.ts";

export interface RunningApi {
  url: string;
  close(): Promise<void>;
}

/**
 * The API suite over real HTTP, for any entry point (Node, Deno) or any running stack (`npm start`,
 * `npm run start:scaled`: see api.external.test.ts): what a client sees of the contract, end to end
 * through PostgreSQL and the object store. It signs up about ten accounts.
 */
export function describeApiSuite(runtime: string, start: () => Promise<RunningApi>) {
  describe(`the edge API over HTTP on ${runtime}`, () => {
    let api: RunningApi;
    let anonymous: ApiClient;
    let accounts = 0;
    const signUp = async () => {
      const session = await anonymous.register({
        email: `${runtime
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, "-")
          .slice(0, 20)}-${++accounts}-${crypto.randomUUID().slice(0, 8)}@example.com`,
        password: "correct horse battery",
        deviceName: `${runtime} device`,
      });
      return { ...session, client: anonymous.withToken(session.token) };
    };

    beforeAll(async () => {
      api = await start();
      anonymous = new ApiClient({ baseUrl: api.url });
    }, 120_000);
    afterAll(() => api?.close());

    it("health, readiness and the OpenAPI document", async () => {
      expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
      expect(await anonymous.openapi()).toMatchObject({ openapi: "3.1.0" });
    });

    it("accounts: register, login as a second device, list, revoke, and the revoked token fails", async () => {
      const { client, userId, token } = await signUp();
      const me = await client.me();
      expect(me.userId).toBe(userId);
      const second = await anonymous.login({
        email: me.email,
        password: "correct horse battery",
        deviceName: "two",
      });
      const two = anonymous.withToken(second.token);
      expect((await two.listDevices()).devices).toHaveLength(2);
      await client.revokeDevice(second.deviceId);
      expect((await failure(two.me())).code).toBe("unauthorized");
      expect(token).not.toBe(second.token);
    });

    it("files: upload straight to the store, create, commit, conflict, move, delete, restore, download", async () => {
      const { client } = await signUp();
      const first = await makeChunk(2048);
      expect(await uploadChunk(client, first)).toBe(true);
      const file = await client.createFile({
        parentId: null,
        name: "data.bin",
        isFolder: false,
        chunks: [first.hash],
      });
      const second = await makeChunk(1000);
      await uploadChunk(client, second);
      await client.commit(file.fileId, { version: 2, chunks: [first.hash, second.hash] });
      const conflict = await failure(client.commit(file.fileId, { version: 2, chunks: [] }));
      expect(conflict).toMatchObject({ code: "version_conflict", details: { currentVersion: 2 } });
      const folder = await client.createFile({ parentId: null, name: "dir", isFolder: true });
      await client.moveFile(file.fileId, { version: 3, parentId: folder.fileId, name: "moved.bin" });
      await client.deleteFile(folder.fileId, 2);
      expect(await client.getFile(file.fileId)).toMatchObject({ deleted: true, version: 4 });
      await client.restore(file.fileId, { version: 5, fromVersion: 2 });
      const restored = await client.getFile(file.fileId);
      expect(restored).toMatchObject({
        deleted: false,
        version: 5,
        size: 3048,
        name: "data.bin",
        parentId: null,
      });
      const { versions } = await client.listVersions(file.fileId);
      expect(versions.map((v) => v.action)).toEqual(["created", "deleted", "moved", "modified", "created"]);

      const { urls } = await client.downloadUrls(restored.chunks);
      const bytes = await Promise.all(
        restored.chunks.map(
          async (hash) => new Uint8Array(await (await fetch(urls[hash] ?? "")).arrayBuffer()),
        ),
      );
      expect(bytes).toEqual([first.bytes, second.bytes]);
      expect((await client.me()).storageUsed).toBe(3048);
    });

    it("20 concurrent commits of the same next version: exactly one wins", async () => {
      const { client } = await signUp();
      const file = await client.createFile({ parentId: null, name: "race", isFolder: false, chunks: [] });
      const chunks = await Promise.all(Array.from({ length: 20 }, (_, i) => makeChunk(`racer ${i}`)));
      const { results } = await client.uploadUrls({
        chunks: chunks.map((c) => ({ chunkHash: c.hash, size: c.bytes.length })),
      });
      await Promise.all(
        results.map((r, i) =>
          putChunk(r.uploadUrl ?? "", r.uploadHeaders, chunks[i]?.bytes ?? new Uint8Array()),
        ),
      );
      const outcomes = await Promise.allSettled(
        chunks.map((c) => client.commit(file.fileId, { version: 2, chunks: [c.hash] })),
      );
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
      for (const o of outcomes)
        if (o.status === "rejected") expect((o.reason as ApiError).code).toBe("version_conflict");
      expect((await client.listVersions(file.fileId)).versions).toHaveLength(2);
    });

    it("the changes feed: a paging reader sees every change of concurrent writers exactly once", async () => {
      const { client } = await signUp();
      const writers = Promise.all(
        Array.from({ length: 10 }, async (_, w) => {
          const f = await client.createFile({ parentId: null, name: `w${w}`, isFolder: false, chunks: [] });
          for (let v = 2; v <= 4; v++) await client.commit(f.fileId, { version: v, chunks: [] });
        }),
      );
      let writing = true;
      void writers.finally(() => {
        writing = false;
      });
      const seen: string[] = [];
      let since: string | undefined;
      for (;;) {
        const stillWriting = writing;
        const page = await client.changes({ ...(since ? { since } : {}), limit: 5 });
        seen.push(...page.changes.map((c) => `${c.fileId}@${c.version}`));
        since = page.syncToken;
        if (!stillWriting && !page.hasMore) break;
      }
      await writers;
      expect(seen).toHaveLength(40);
      expect(new Set(seen).size).toBe(40);
    });

    it("dedup never leaks: a hash alone gives neither exists, a commit, nor a download", async () => {
      const alice = await signUp();
      const bob = await signUp();
      const secret = await makeChunk("alice only");
      await uploadChunk(alice.client, secret);
      await alice.client.createFile({ parentId: null, name: "s", isFolder: false, chunks: [secret.hash] });
      expect((await bob.client.uploadUrl({ chunkHash: secret.hash, size: 10 })).exists).toBe(false);
      const steal = await failure(
        bob.client.createFile({ parentId: null, name: "s", isFolder: false, chunks: [secret.hash] }),
      );
      expect(steal.code).toBe("chunks_missing");
      expect((await failure(bob.client.downloadUrls([secret.hash]))).code).toBe("not_found");
    });

    it("bad input is a 4xx envelope: malformed JSON, no token, oversized body, fuzzed bodies", async () => {
      const { token } = await signUp();
      const post = (path: string, body: string, auth = true) =>
        fetch(`${api.url}${path}`, {
          method: "POST",
          body,
          headers: {
            "content-type": "application/json",
            ...(auth ? { authorization: `Bearer ${token}` } : {}),
          },
        });
      const check = async (response: Response, status?: number) => {
        const text = await response.text();
        expect(response.status, text).toBeGreaterThanOrEqual(400);
        expect(response.status, text).toBeLessThan(500);
        if (status) expect(response.status).toBe(status);
        ErrorEnvelope.parse(JSON.parse(text));
      };
      await check(await post(routes.files, "{not json"), 400);
      await check(await post(routes.files, "{}", false), 401);
      await check(await post(routes.files, JSON.stringify({ name: "x".repeat(limits.bodyMaxBytes) })), 413);
      await fc.assert(
        fc.asyncProperty(
          fc.jsonValue(),
          fc.constantFrom(routes.files, routes.uploadUrl, routes.downloadUrls),
          async (body, path) => {
            await check(await post(path, JSON.stringify(body)));
          },
        ),
        { numRuns: 30 },
      );
    });
  });
}
