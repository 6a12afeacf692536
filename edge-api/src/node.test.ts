import { ApiClient } from "@wsync/shared-protocol";
import {
  createTestBucket,
  createTestDatabase,
  type TestBucket,
  type TestDatabase,
} from "@wsync/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdgeApi } from "./index.ts";
import { makeChunk, uploadChunk } from "./testing/chunks.ts";

let database: TestDatabase;
let bucket: TestBucket;
beforeAll(async () => {
  [database, bucket] = await Promise.all([createTestDatabase(), createTestBucket()]);
});
afterAll(async () => {
  await database?.drop();
  await bucket?.drop();
});

describe("startEdgeApi (Node)", () => {
  it("migrates, creates the bucket, listens on a free port and serves the contract over HTTP", async () => {
    const lines: Record<string, unknown>[] = [];
    // A bucket that does not exist yet: startEdgeApi creates it.
    const { drop: _, ...connection } = bucket;
    const settings = { ...connection, bucket: `fresh-${crypto.randomUUID().slice(0, 8)}` };
    const api = await startEdgeApi({
      databaseUrl: database.url,
      s3: settings,
      port: 0,
      log: (l) => lines.push(l),
    });
    try {
      expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(api.url).not.toMatch(/:0$/);
      expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
      const session = await new ApiClient({ baseUrl: api.url }).register({
        email: "node@example.com",
        password: "a good password",
        deviceName: "node",
      });
      const client = new ApiClient({ baseUrl: api.url, token: session.token });
      const chunk = await makeChunk("over a real socket");
      await uploadChunk(client, chunk);
      await client.createFile({ parentId: null, name: "f", isFolder: false, chunks: [chunk.hash] });
      expect((await client.me()).storageUsed).toBe(chunk.bytes.length);
      expect(lines.filter((l) => l.msg === "request").length).toBeGreaterThanOrEqual(5);
    } finally {
      await api.close();
    }
    // A second start on the same database finds it migrated and serves the same data.
    const again = await startEdgeApi({ databaseUrl: database.url, s3: settings, port: 0, log: () => {} });
    try {
      const login = await new ApiClient({ baseUrl: again.url }).login({
        email: "node@example.com",
        password: "a good password",
        deviceName: "again",
      });
      expect((await new ApiClient({ baseUrl: again.url, token: login.token }).me()).storageUsed).toBe(18);
    } finally {
      await again.close();
    }
  });
});
