import { randomUUID } from "node:crypto";
import type { LocalStack, LocalStackOptions } from "@wsync/local-stack/local-stack";
import { createTestDatabase } from "./database.ts";
import { createTestBucket } from "./s3.ts";

export type TestStack = LocalStack;

/**
 * The whole backend for a test (edge API and notifier on free ports) on the run's services: a fresh
 * database on the run's PostgreSQL, a fresh bucket on the run's S3 store (embedded, or the real ones
 * the stack suite names), and Kafka from KAFKA_BROKERS (a topic of its own) or the in-process bus.
 * close() stops it and drops the database and the bucket.
 */
export async function startTestStack(): Promise<TestStack> {
  const [database, bucket] = await Promise.all([createTestDatabase(), createTestBucket()]);
  const cleanUp = () => Promise.all([database.drop(), bucket.drop()]);
  try {
    // Loaded on use, so test files that never start a stack do not load the servers' modules.
    const { startLocalStack } = await import("@wsync/local-stack/local-stack");
    const { endpoint, region, accessKeyId, secretAccessKey } = bucket;
    const stack = await startLocalStack({
      apiPort: 0,
      notifierPort: 0,
      quiet: true,
      databaseUrl: database.url,
      s3: { endpoint, region, accessKeyId, secretAccessKey },
      bucket: bucket.bucket,
      ...kafkaFromEnvironment(),
    });
    return {
      ...stack,
      async close() {
        try {
          await stack.close();
        } finally {
          await cleanUp();
        }
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

function kafkaFromEnvironment(): Partial<LocalStackOptions> {
  const brokers = (process.env.KAFKA_BROKERS ?? "")
    .split(",")
    .map((broker) => broker.trim())
    .filter(Boolean);
  if (brokers.length === 0) return {};
  return { kafkaBrokers: brokers, kafkaTopic: `wsync-test-${randomUUID()}` };
}
