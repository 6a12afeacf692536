import { migrate } from "@wsync/edge-api";
import { authenticateDevice } from "@wsync/edge-api/device-auth";
import { WS_CLOSE_UNAUTHORIZED } from "@wsync/shared-protocol";
import { createTestDatabase, leakedSecrets, type TestDatabase } from "@wsync/test-fixtures";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { InProcessBus } from "./bus/in-process-bus.ts";
import { consoleLogger } from "./logger.ts";
import { type RunningNotifier, runNotifier } from "./notifier.ts";
import { createDevice, createUser, revokeDevice, type TestDevice } from "./testing/edge-tables.ts";
import { TestClient, until } from "./testing/test-client.ts";

// Issue #8: "tokens and passwords never appear in logs". Every line the notifier logs is captured while
// devices connect by header and by `?token=`, present a forged token, get revoked while connected, and
// reconnect, and while the token check itself fails with an error that quotes the token (as a driver
// error carrying the request's details would). No form of any token may appear in any line.

let database: TestDatabase;
let sql: Sql;
let notifier: RunningNotifier;
const lines: string[] = [];
/** Tokens whose check throws an error quoting them (a database error carrying the query's details). */
const failingTokens = new Set<string>();

beforeAll(async () => {
  // The production logger, its lines (stderr) captured as written.
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  });
  database = await createTestDatabase();
  await migrate(database.url);
  sql = postgres(database.url, { max: 4, onnotice: () => {} });
  notifier = await runNotifier({
    sql,
    bus: new InProcessBus(),
    logger: consoleLogger,
    port: 0,
    authenticate: async (token) => {
      if (failingTokens.has(token))
        throw new Error(`device lookup failed for token ${token} (Authorization: Bearer ${token})`);
      return authenticateDevice(sql, token);
    },
  });
});

afterAll(async () => {
  await notifier?.close();
  await sql?.end();
  await database?.drop();
  vi.restoreAllMocks();
});

async function hello(device: TestDevice, via: "header" | "query" = "header"): Promise<TestClient> {
  const client = TestClient.connect(notifier.url, device.token, { via });
  await client.received(1);
  return client;
}

describe("the notifier's logs", () => {
  it("never carry a device token, whatever happens to the socket or the poll", async () => {
    const userId = await createUser(sql);
    const [kept, revoked, broken] = await Promise.all([
      createDevice(sql, userId),
      createDevice(sql, userId),
      createDevice(sql, userId),
    ]);
    const forged = { ...kept, token: `${kept.token.slice(0, -4)}AAAA` };

    // Reconnects, by header and by query string.
    for (let i = 0; i < 3; i++) {
      await (await hello(kept, i % 2 === 0 ? "header" : "query")).close();
    }
    // A forged token, by header and by query string: refused with 4401.
    for (const via of ["header", "query"] as const) {
      const refused = TestClient.connect(notifier.url, forged.token, { via });
      expect((await refused.closed).code).toBe(WS_CLOSE_UNAUTHORIZED);
    }
    // Revoked while connected: 4401 at once.
    const live = await hello(revoked);
    await revokeDevice(sql, revoked);
    expect((await live.closed).code).toBe(WS_CLOSE_UNAUTHORIZED);
    const poll = await fetch(`${notifier.url}/poll?since=x&token=${encodeURIComponent(revoked.token)}`, {
      headers: { authorization: `Bearer ${revoked.token}` },
    });
    expect(poll.status).toBeGreaterThanOrEqual(400);

    // The token check fails with an error quoting the token: logged, but without it.
    failingTokens.add(broken.token);
    for (const via of ["header", "query"] as const) {
      const failed = TestClient.connect(notifier.url, broken.token, { via });
      expect((await failed.closed).code).not.toBe(1000);
    }
    const failedPoll = await fetch(`${notifier.url}/poll?since=x&timeout=1`, {
      headers: { authorization: `Bearer ${broken.token}` },
    });
    expect(failedPoll.status).toBeGreaterThanOrEqual(400);
    await until(() => lines.filter((line) => line.includes("device lookup failed")).length >= 2);

    const secrets = Object.fromEntries(
      [kept, revoked, broken, forged].map((device, i) => [`token ${i}`, device.token]),
    );
    expect(leakedSecrets(lines, secrets)).toEqual([]);
    // The lines are there (so the check above saw them), just without the token.
    expect(lines.some((line) => line.includes("[redacted]"))).toBe(true);
  });
});
