import { migrate } from "@wsync/edge-api";
import { createTestDatabase, type TestDatabase } from "@wsync/test-fixtures";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Logger, silentLogger } from "./logger.ts";
import type { RunningNotifier } from "./notifier.ts";
import { startNotifier } from "./start-notifier.ts";
import {
  commitChange,
  createDevice,
  createUser,
  type TestDevice,
  unsentOutboxRows,
} from "./testing/edge-tables.ts";
import { type KafkaBroker, startKafkaBroker } from "./testing/kafka-broker.ts";
import { TestClient, until } from "./testing/test-client.ts";

const suiteBrokers = (process.env.KAFKA_BROKERS ?? "").split(",").filter(Boolean);

let database: TestDatabase;
let sql: Sql;

beforeAll(async () => {
  if (suiteBrokers.length === 0)
    throw new Error("KAFKA_BROKERS is not set: run this through npm run test:stack");
  database = await createTestDatabase();
  await migrate(database.url);
  sql = postgres(database.url, { max: 4, onnotice: () => {} });
});

afterAll(async () => {
  await sql?.end();
  await database?.drop();
});

/** Two notifier instances on one database and one topic (a topic of this test's own). */
async function twoInstances(brokers: string[], topic: string, logger: Logger = silentLogger) {
  const options = {
    databaseUrl: database.url,
    bus: { kind: "kafka" as const, brokers, topic },
    logger,
    relayRetryMinMs: 100,
    relayRetryMaxMs: 1_000,
  };
  return Promise.all([startNotifier(options), startNotifier(options)]);
}

async function connected(notifier: RunningNotifier, device: TestDevice): Promise<TestClient> {
  const client = TestClient.connect(notifier.url, device.token);
  await client.received(1);
  return client;
}

const changedTokens = (client: TestClient) =>
  client.messages.filter((message) => message.type === "changed").map((message) => message.syncToken);

describe("the notifier on real Kafka", () => {
  it("reaches a user's devices on different instances with every event, in order, and no one else", async () => {
    const [first, second] = await twoInstances(suiteBrokers, `wsync.test.${crypto.randomUUID()}`);
    const userId = await createUser(sql);
    const [laptop, desktop] = [await createDevice(sql, userId), await createDevice(sql, userId)];
    const stranger = await createDevice(sql, await createUser(sql));
    const clients = [
      await connected(first, laptop),
      await connected(second, desktop),
      await connected(second, stranger),
    ];
    try {
      const tokens: string[] = [];
      for (let i = 0; i < 20; i += 1)
        tokens.push((await commitChange(sql, i % 2 ? laptop : desktop)).syncToken);
      const strangersOwn = await commitChange(sql, stranger);

      const [onFirst, onSecond, strangerClient] = clients as [TestClient, TestClient, TestClient];
      await onFirst.received(21);
      await onSecond.received(21);
      expect(changedTokens(onFirst)).toEqual(tokens);
      expect(changedTokens(onSecond)).toEqual(tokens);
      await strangerClient.received(2);
      expect(changedTokens(strangerClient)).toEqual([strangersOwn.syncToken]);
      await until(async () => (await unsentOutboxRows(sql)) === 0, "the outbox to drain");
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await Promise.all([first.close(), second.close()]);
    }
  });

  describe("with Kafka stopped for a while and restarted", () => {
    let broker: KafkaBroker;
    beforeAll(async () => {
      broker = await startKafkaBroker();
    });
    afterAll(async () => {
      await broker?.dispose();
    });

    it("delivers every change made meanwhile to the devices on both instances", async () => {
      const publishFailures: string[] = [];
      const logger: Logger = {
        ...silentLogger,
        warn: (message) => {
          if (message.startsWith("outbox relay could not publish")) publishFailures.push(message);
        },
      };
      const [first, second] = await twoInstances(broker.brokers, "wsync.file-events", logger);
      const userId = await createUser(sql);
      const [laptop, desktop] = [await createDevice(sql, userId), await createDevice(sql, userId)];
      const clients = [await connected(first, laptop), await connected(second, desktop)];
      try {
        const before = await commitChange(sql, laptop);
        await Promise.all(clients.map((client) => client.received(2)));

        await broker.stop();
        const during: string[] = [];
        for (let i = 0; i < 5; i += 1) during.push((await commitChange(sql, desktop)).syncToken);
        await until(() => publishFailures.length >= 2, "the relays to fail to publish");
        expect(await unsentOutboxRows(sql)).toBe(5);

        await broker.start();
        const after = await commitChange(sql, laptop);
        for (const client of clients) {
          await until(
            () => changedTokens(client).includes(after.syncToken),
            "the change made after the restart",
          );
          // At least once: a batch Kafka took just as it went away may come again, which clients ignore.
          expect([...new Set(changedTokens(client))]).toEqual([before.syncToken, ...during, after.syncToken]);
        }
        await until(async () => (await unsentOutboxRows(sql)) === 0, "the outbox to drain");
      } finally {
        await Promise.all(clients.map((client) => client.close()));
        await Promise.all([first.close(), second.close()]);
      }
    }, 180_000);
  });
});
