import { createTestBucket, createTestDatabase } from "@wsync/test-fixtures";
import { afterAll } from "vitest";
import { startEdgeApi } from "./node.ts";
import { describeApiSuite } from "./testing/api-suite.ts";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

describeApiSuite("Node", async () => {
  const [database, bucket] = await Promise.all([createTestDatabase(), createTestBucket()]);
  cleanup.push(
    () => database.drop(),
    () => bucket.drop(),
  );
  const { drop: _, ...s3 } = bucket;
  return startEdgeApi({
    databaseUrl: database.url,
    s3,
    port: 0,
    log: () => {},
    config: {
      maintenanceIntervalSeconds: 0,
      rateLimits: { registerPerAddress: { limit: 10_000, windowSeconds: 60 } },
    },
  });
});
