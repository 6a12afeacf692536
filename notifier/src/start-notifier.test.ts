import { migrate } from "@wsync/edge-api";
import {
  decodeSyncToken,
  encodeSyncToken,
  PollResponse,
  WS_CLOSE_UNAUTHORIZED,
} from "@wsync/shared-protocol";
import { createTestDatabase, type TestDatabase } from "@wsync/test-fixtures";
import postgres, { type Sql } from "postgres";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "./logger.ts";
import type { RunningNotifier } from "./notifier.ts";
import { startNotifier } from "./start-notifier.ts";
import {
  commitChange,
  commitManyChanges,
  createDevice,
  createUser,
  revokeDevice,
  type TestDevice,
  unsentOutboxRows,
} from "./testing/edge-tables.ts";
import { TestClient, until } from "./testing/test-client.ts";

let database: TestDatabase;
let sql: Sql;
let notifier: RunningNotifier;
const clients: TestClient[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  await migrate(database.url);
  sql = postgres(database.url, { max: 4, onnotice: () => {} });
  notifier = await startNotifier({
    databaseUrl: database.url,
    bus: { kind: "in-process" },
    port: 0,
    logger: silentLogger,
    sendBufferLimitBytes: 64 * 1024,
  });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  await notifier?.close();
  await sql?.end();
  await database?.drop();
});

async function user(devices: number): Promise<TestDevice[]> {
  const userId = await createUser(sql);
  return Promise.all(Array.from({ length: devices }, () => createDevice(sql, userId)));
}

async function connected(device: TestDevice): Promise<TestClient> {
  const client = TestClient.connect(notifier.url, device.token);
  clients.push(client);
  await client.received(1);
  return client;
}

async function poll(device: TestDevice | null, query: string) {
  const response = await fetch(`${notifier.url}/poll?${query}`, {
    headers: device ? { authorization: `Bearer ${device.token}` } : {},
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

describe("the notifier in embedded mode (in-process bus, real PostgreSQL, real WebSockets)", () => {
  it("listens where its url says and reports health", async () => {
    expect(notifier.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${notifier.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok" });
  });

  it("greets each socket with hello carrying the user's newest sync token", async () => {
    const [laptop] = (await user(1)) as [TestDevice];
    await commitChange(sql, laptop);
    const newest = await commitChange(sql, laptop);
    const client = await connected(laptop);
    expect(client.messages[0]).toEqual({ type: "hello", syncToken: newest.syncToken });
  });

  it("delivers a change written through the outbox to every socket of that user and to no other user's", async () => {
    const [laptop, desktop] = (await user(2)) as [TestDevice, TestDevice];
    const [stranger] = (await user(1)) as [TestDevice];
    const sockets = await Promise.all([connected(laptop), connected(laptop), connected(desktop)]);
    const strangerSocket = await connected(stranger);

    const change = await commitChange(sql, laptop);
    const strangersOwn = await commitChange(sql, stranger);

    for (const socket of sockets) {
      expect((await socket.received(2))[1]).toEqual({
        type: "changed",
        fileId: change.fileId,
        version: change.version,
        action: change.action,
        deviceId: laptop.deviceId,
        syncToken: change.syncToken,
      });
    }
    // The stranger's next frame is its own change: the other user's was never sent to it.
    expect((await strangerSocket.received(2))[1]).toMatchObject({
      type: "changed",
      fileId: strangersOwn.fileId,
    });
    await until(async () => (await unsentOutboxRows(sql)) === 0, "the outbox to be marked sent");
  });

  it("closes with 4401 a socket with a bad token", async () => {
    const client = TestClient.connect(notifier.url, "wsd1.not-a-token");
    clients.push(client);
    expect((await client.closed).code).toBe(WS_CLOSE_UNAUTHORIZED);
  });

  it("closes a revoked device's sockets with 4401 at once, keeps the user's others, and refuses its token after", async () => {
    const [laptop, desktop] = (await user(2)) as [TestDevice, TestDevice];
    const [laptopSocket, desktopSocket] = await Promise.all([connected(laptop), connected(desktop)]);

    await revokeDevice(sql, laptop);

    expect((await laptopSocket.closed).code).toBe(WS_CLOSE_UNAUTHORIZED);
    const change = await commitChange(sql, desktop);
    expect((await desktopSocket.received(2))[1]).toMatchObject({ syncToken: change.syncToken });
    const again = TestClient.connect(notifier.url, laptop.token);
    clients.push(again);
    expect((await again.closed).code).toBe(WS_CLOSE_UNAUTHORIZED);
    expect((await poll(laptop, `since=${encodeSyncToken(0)}`)).status).toBe(401);
  });

  it("answers a long poll as soon as the user has a change after `since`", async () => {
    const [laptop, desktop] = (await user(2)) as [TestDevice, TestDevice];
    const before = await commitChange(sql, laptop);
    const waiting = poll(desktop, `since=${before.syncToken}&timeout=30`);
    // The poll is waiting (it cannot answer before the change exists); then the change commits.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const change = await commitChange(sql, laptop);
    const { status, body } = await waiting;
    expect(status).toBe(200);
    expect(PollResponse.parse(body)).toEqual({ changed: true, syncToken: change.syncToken });
  });

  it("answers a long poll at once when the journal is already past `since`", async () => {
    const [laptop] = (await user(1)) as [TestDevice];
    await commitChange(sql, laptop);
    const newest = await commitChange(sql, laptop);
    const { body } = await poll(laptop, `since=${encodeSyncToken(0)}&timeout=60`);
    expect(body).toEqual({ changed: true, syncToken: newest.syncToken });
  });

  it("answers a long poll with changed false and the same token when the timeout runs out", async () => {
    const [laptop] = (await user(1)) as [TestDevice];
    const since = (await commitChange(sql, laptop)).syncToken;
    const { status, body } = await poll(laptop, `since=${since}&timeout=1`);
    expect(status).toBe(200);
    expect(body).toEqual({ changed: false, syncToken: since });
  });

  it("refuses a poll without a valid token (401) or with a bad query (400), in the error envelope", async () => {
    const [laptop] = (await user(1)) as [TestDevice];
    const unauthorized = await poll(null, `since=${encodeSyncToken(0)}`);
    expect(unauthorized).toMatchObject({ status: 401, body: { error: { code: "unauthorized" } } });
    for (const query of [
      "",
      `since=${encodeSyncToken(0)}&timeout=61`,
      "since=not-a-token",
      `since=${encodeSyncToken(0)}&timeout=x`,
    ]) {
      const answer = await poll(laptop, query);
      expect(answer, query).toMatchObject({ status: 400, body: { error: { code: "validation_failed" } } });
    }
  });

  it("drops a client that stops reading while the user's other sockets get every change", async () => {
    const [laptop, desktop] = (await user(2)) as [TestDevice, TestDevice];
    const stalled = await connected(laptop);
    const reading = await connected(desktop);
    stalled.socket.pause();
    const connections = async () =>
      ((await (await fetch(`${notifier.url}/healthz`)).json()) as { connections: number }).connections;
    const before = await connections();

    let last = 0n;
    let rounds = 0;
    while ((await connections()) === before && rounds < 20) {
      last = await commitManyChanges(sql, laptop.userId, 10_000);
      rounds += 1;
      await until(
        () => decodeSyncToken(String(reading.messages.at(-1)?.syncToken)) === last,
        "the reader to catch up",
      );
    }
    expect(await connections()).toBe(before - 1);
    // A new user's journal starts at 0, so the reader got one `changed` for each of the `last` changes.
    const changes = reading.messages.filter((message) => message.type === "changed");
    expect(changes).toHaveLength(Number(last));
  });
});
