import { ApiClient } from "@wsync/shared-protocol";
import {
  createTestBucket,
  createTestDatabase,
  type TestBucket,
  type TestDatabase,
} from "@wsync/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdgeApi } from "./index.ts";
import { forwardedFor } from "./node.ts";
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

describe("behind a load balancer (trustProxy)", () => {
  it("forwardedFor takes the address the nearest proxy saw: the last X-Forwarded-For entry", () => {
    expect(forwardedFor("203.0.113.9")).toBe("203.0.113.9");
    expect(forwardedFor("10.9.9.9, 198.51.100.7")).toBe("198.51.100.7");
    expect(forwardedFor(undefined)).toBeUndefined();
    expect(forwardedFor(" ")).toBeUndefined();
  });

  it("per-address limits count each client's forwarded address, not the balancer's", async () => {
    const { drop: _, ...s3 } = bucket;
    const api = await startEdgeApi({
      databaseUrl: database.url,
      s3,
      port: 0,
      log: () => {},
      trustProxy: true,
      config: {
        maintenanceIntervalSeconds: 0,
        rateLimits: { registerPerAddress: { limit: 1, windowSeconds: 600 } },
      },
    });
    try {
      const register = (from: string) =>
        fetch(`${api.url}/api/v1/auth/register`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": from },
          body: JSON.stringify({
            email: `proxy-${crypto.randomUUID().slice(0, 8)}@example.com`,
            password: "a good password",
            deviceName: "d",
          }),
        });
      expect((await register("198.51.100.1")).status).toBe(201);
      expect((await register("198.51.100.2")).status).toBe(201);
      expect((await register("198.51.100.1")).status).toBe(429);
    } finally {
      await api.close();
    }
  });
});
