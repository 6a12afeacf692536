import { migrate } from "@wsync/edge-api";
import { type BusEvent, decodeSyncToken } from "@wsync/shared-protocol";
import { createTestDatabase, type TestDatabase } from "@wsync/test-fixtures";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../logger.ts";
import { commitChange, commitManyChanges, createUser, unsentOutboxRows } from "../testing/edge-tables.ts";
import { until } from "../testing/test-client.ts";
import { OutboxRelay } from "./outbox-relay.ts";
import { postgresOutbox } from "./postgres-outbox.ts";

let database: TestDatabase;
let sql: Sql;

beforeAll(async () => {
  database = await createTestDatabase();
  await migrate(database.url);
  sql = postgres(database.url, { max: 4, onnotice: () => {} });
});

afterAll(async () => {
  await sql?.end();
  await database?.drop();
});

const sequenceOf = (event: BusEvent) =>
  event.type === "file_changed" ? decodeSyncToken(event.syncToken) : null;

describe("the outbox relay on PostgreSQL", () => {
  it("with two relays on one outbox, publishes every row exactly once and each user's rows in order", async () => {
    const pools = [
      postgres(database.url, { max: 2, onnotice: () => {} }),
      postgres(database.url, { max: 2, onnotice: () => {} }),
    ];
    const published: BusEvent[] = [];
    const relays = pools.map(
      (pool) =>
        new OutboxRelay({
          source: postgresOutbox(pool, silentLogger),
          // A slow bus widens the window in which the two relays compete.
          publish: async (events) => {
            await new Promise((resolve) => setTimeout(resolve, 2));
            published.push(...events);
          },
          logger: silentLogger,
          batchSize: 50,
          sweepIntervalMs: 20,
        }),
    );
    try {
      await Promise.all(relays.map((relay) => relay.start()));
      const users = await Promise.all([createUser(sql), createUser(sql), createUser(sql)]);
      for (let round = 0; round < 5; round += 1) {
        await Promise.all(users.map((userId) => commitManyChanges(sql, userId, 120)));
      }
      await until(async () => (await unsentOutboxRows(sql)) === 0, "the outbox to drain");
      await Promise.all(relays.map((relay) => relay.idle()));

      expect(published).toHaveLength(users.length * 600);
      for (const userId of users) {
        const sequences = published.filter((event) => event.userId === userId).map(sequenceOf);
        expect(sequences).toEqual(Array.from({ length: 600 }, (_, i) => BigInt(i + 1)));
      }
    } finally {
      await Promise.all(relays.map((relay) => relay.close()));
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it("wakes on the change transaction's NOTIFY, without waiting for the sweep", async () => {
    const published: BusEvent[] = [];
    const relay = new OutboxRelay({
      source: postgresOutbox(sql, silentLogger),
      publish: async (events) => void published.push(...events),
      logger: silentLogger,
      sweepIntervalMs: 3600_000,
    });
    await relay.start();
    try {
      await until(async () => (await unsentOutboxRows(sql)) === 0, "the start-up drain");
      const change = await commitChange(sql, { userId: await createUser(sql), deviceId: null });
      await until(
        () => published.some((event) => event.userId === change.userId),
        "the notified row",
        10_000,
      );
      expect(published.at(-1)).toEqual(change);
      // The row is marked sent in the same transaction, after publish returns: wait for that drain.
      await relay.idle();
      expect(await unsentOutboxRows(sql)).toBe(0);
    } finally {
      await relay.close();
    }
  });

  it("keeps rows unsent while the bus is down and sends them all once it is back", async () => {
    let busUp = false;
    let failures = 0;
    const published: BusEvent[] = [];
    const relay = new OutboxRelay({
      source: postgresOutbox(sql, silentLogger),
      publish: async (events) => {
        if (!busUp) {
          failures += 1;
          throw new Error("bus down");
        }
        published.push(...events);
      },
      logger: silentLogger,
      retryMinMs: 5,
      retryMaxMs: 20,
    });
    await relay.start();
    try {
      const userId = await createUser(sql);
      const first = await commitChange(sql, { userId, deviceId: null });
      await until(() => failures >= 2, "publish attempts to fail");
      const second = await commitChange(sql, { userId, deviceId: null });
      await until(() => failures >= 4, "more publish attempts to fail");
      expect(await unsentOutboxRows(sql)).toBe(2);

      busUp = true;
      await until(async () => (await unsentOutboxRows(sql)) === 0, "the outbox to drain");
      expect(published).toEqual([first, second]);
    } finally {
      await relay.close();
    }
  });

  it("skips a row that is not a bus event without holding up the rows behind it", async () => {
    const userId = await createUser(sql);
    await sql`INSERT INTO outbox (owner_id, event) VALUES (${userId}, ${sql.json({ type: "nonsense" })})`;
    const good = await commitChange(sql, { userId, deviceId: null });
    const published: BusEvent[] = [];
    const relay = new OutboxRelay({
      source: postgresOutbox(sql, silentLogger),
      publish: async (events) => void published.push(...events),
      logger: silentLogger,
    });
    await relay.start();
    try {
      await until(async () => (await unsentOutboxRows(sql)) === 0, "the outbox to drain");
      expect(published).toEqual([good]);
    } finally {
      await relay.close();
    }
  });
});

describe("pruning the outbox", () => {
  it("deletes rows sent longer ago than the retention and keeps recent and unsent ones", async () => {
    const userId = await createUser(sql);
    await sql`DELETE FROM outbox`;
    for (let i = 0; i < 3; i += 1) await commitChange(sql, { userId, deviceId: null });
    const [oldSent, recentSent, unsent] = (
      await sql<{ id: string }[]>`SELECT id FROM outbox ORDER BY id`
    ).map((row) => row.id);
    await sql`UPDATE outbox SET sent_at = now() - interval '2 hours' WHERE id = ${oldSent ?? ""}`;
    await sql`UPDATE outbox SET sent_at = now() - interval '10 minutes' WHERE id = ${recentSent ?? ""}`;

    const pruned = await postgresOutbox(sql, silentLogger).pruneSent?.(3600_000);

    expect(pruned).toBe(1);
    const left = await sql<{ id: string }[]>`SELECT id FROM outbox ORDER BY id`;
    expect(left.map((row) => row.id)).toEqual([recentSent, unsent]);
  });
});
