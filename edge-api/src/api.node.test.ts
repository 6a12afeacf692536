import { createTestDatabase, type TestDatabase } from "@wsync/test-fixtures";
import { afterAll } from "vitest";
import { startEdgeApi } from "./node.ts";
import { describeApiSuite } from "./testing/api-suite.ts";
import { startTestS3, type TestS3 } from "./testing/test-storage.ts";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

describeApiSuite("Node", async () => {
  const database: TestDatabase = await createTestDatabase();
  const s3: TestS3 = await startTestS3();
  cleanup.push(
    () => database.drop(),
    () => s3.close(),
  );
  return startEdgeApi({
    databaseUrl: database.url,
    s3: s3.settings,
    port: 0,
    log: () => {},
    config: {
      maintenanceIntervalSeconds: 0,
      rateLimits: { registerPerAddress: { limit: 10_000, windowSeconds: 60 } },
    },
  });
});
