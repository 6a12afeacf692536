import { migrate } from "@wsync/edge-api";
import { authenticateDevice } from "@wsync/edge-api/device-auth";
import type { BusEvent } from "@wsync/shared-protocol";
import { createTestDatabase, type TestDatabase } from "@wsync/test-fixtures";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BusHandler, EventBus } from "./bus/event-bus.ts";
import { InProcessBus } from "./bus/in-process-bus.ts";
import { silentLogger } from "./logger.ts";
import { runNotifier } from "./notifier.ts";
import { commitChange, createDevice, createUser, unsentOutboxRows } from "./testing/edge-tables.ts";
import { TestClient, until } from "./testing/test-client.ts";

/** The in-process bus with a switch: while down, every publish fails as a broker outage would. */
class SwitchableBus implements EventBus {
  readonly inner = new InProcessBus();
  up = true;
  failedPublishes = 0;
  async publish(events: readonly BusEvent[]) {
    if (!this.up) {
      this.failedPublishes += 1;
      throw new Error("bus unavailable");
    }
    await this.inner.publish(events);
  }
  subscribe(handler: BusHandler) {
    return this.inner.subscribe(handler);
  }
  close() {
    return this.inner.close();
  }
}

let database: TestDatabase;
let sql: Sql;

beforeAll(async () => {
  database = await createTestDatabase();
  await migrate(database.url);
  sql = postgres(database.url, { max: 6, onnotice: () => {} });
});

afterAll(async () => {
  await sql?.end();
  await database?.drop();
});

describe("the notifier when its bus fails", () => {
  it("keeps changes in the outbox while the bus is down and delivers every one once it is back", async () => {
    const bus = new SwitchableBus();
    const notifier = await runNotifier({
      sql,
      bus,
      authenticate: (token) => authenticateDevice(sql, token),
      logger: silentLogger,
      relayRetryMinMs: 5,
      relayRetryMaxMs: 50,
    });
    const userId = await createUser(sql);
    const device = await createDevice(sql, userId);
    const client = TestClient.connect(notifier.url, device.token);
    try {
      await client.received(1);
      bus.up = false;
      const during = [await commitChange(sql, device), await commitChange(sql, device)];
      await until(() => bus.failedPublishes >= 3, "the relay to try and fail");
      expect(await unsentOutboxRows(sql)).toBe(2);
      expect(client.messages).toHaveLength(1);

      bus.up = true;
      const after = await commitChange(sql, device);
      const messages = await client.received(4);
      expect(messages.slice(1).map((message) => message.syncToken)).toEqual(
        [...during, after].map((event) => event.syncToken),
      );
      await until(async () => (await unsentOutboxRows(sql)) === 0, "the outbox to be marked sent");
    } finally {
      await client.close();
      await notifier.close();
      await bus.close();
    }
  });
});

describe("the notifier stopped and started again", () => {
  it("closes sockets with 1001, then relays what was committed meanwhile and greets reconnecting devices with the newest token", async () => {
    const userId = await createUser(sql);
    const device = await createDevice(sql, userId);
    const start = () =>
      runNotifier({
        sql,
        bus: new InProcessBus(),
        authenticate: (token) => authenticateDevice(sql, token),
        logger: silentLogger,
      });

    const first = await start();
    const before = TestClient.connect(first.url, device.token);
    await before.received(1);
    await first.close();
    expect((await before.closed).code).toBe(1001);

    await commitChange(sql, device);
    const newest = await commitChange(sql, device);
    expect(await unsentOutboxRows(sql)).toBe(2);

    const second = await start();
    const after = TestClient.connect(second.url, device.token);
    try {
      expect(await after.received(1)).toEqual([{ type: "hello", syncToken: newest.syncToken }]);
      await until(
        async () => (await unsentOutboxRows(sql)) === 0,
        "the rows written while down to be relayed",
      );
    } finally {
      await after.close();
      await second.close();
    }
  });
});
