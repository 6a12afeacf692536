import { createTestDatabase, type TestDatabase } from "@wsync/test-fixtures";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDeviceToken } from "../auth/device-token.ts";
import { authenticateDevice } from "../device-auth.ts";
import { addDevice, createAccountWithDevice, listActiveDevices, revokeDevice } from "./accounts.ts";
import { applyMigrations, loadMigrations, migrate } from "./migrate.ts";

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

async function newAccount(email: string) {
  const userId = crypto.randomUUID();
  const deviceId = crypto.randomUUID();
  const issued = await issueDeviceToken(userId, deviceId);
  await createAccountWithDevice(
    sql,
    {
      userId,
      email,
      passwordHash: "unused-here",
      storageQuota: 1000,
      device: { deviceId, name: "laptop", tokenHash: issued.secretHash },
    },
    new Date(),
  );
  return { userId, deviceId, token: issued.token };
}

describe("migrations", () => {
  it("apply once: running them again, even concurrently, changes nothing", async () => {
    const migrations = await loadMigrations();
    expect(migrations.map((m) => m.name)[0]).toBe("001_initial.sql");
    const again = await Promise.all([applyMigrations(sql, migrations), applyMigrations(sql, migrations)]);
    expect(again).toEqual([[], []]);
  });

  it("create the tables the notifier reads with the agreed columns", async () => {
    const columns = await sql<{ table_name: string; column_name: string }[]>`
      SELECT table_name, column_name FROM information_schema.columns
      WHERE table_name IN ('users', 'outbox') ORDER BY table_name, ordinal_position`;
    const names = columns.map((c) => `${c.table_name}.${c.column_name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        "users.id",
        "users.journal_seq",
        "outbox.id",
        "outbox.owner_id",
        "outbox.event",
        "outbox.created_at",
        "outbox.sent_at",
      ]),
    );
  });
});

describe("device tokens", () => {
  it("authenticate the device they were issued to", async () => {
    const account = await newAccount("a@example.com");
    expect(await authenticateDevice(sql, account.token)).toEqual({
      userId: account.userId,
      deviceId: account.deviceId,
    });
  });

  it("are stored only as a hash", async () => {
    const account = await newAccount("hash@example.com");
    const secret = account.token.split(".")[3] ?? "";
    const rows = await sql`SELECT token_hash FROM devices WHERE owner_id = ${account.userId}`;
    expect(rows).toHaveLength(1);
    const stored = new Uint8Array(rows[0]?.token_hash);
    expect(stored).toHaveLength(32);
    expect(new TextDecoder().decode(stored)).not.toContain(secret);
    const dump = await sql`SELECT to_jsonb(d)::text AS row FROM devices d WHERE owner_id = ${account.userId}`;
    expect(dump[0]?.row).not.toContain(secret);
  });

  it("fail when forged, altered or malformed", async () => {
    const account = await newAccount("forged@example.com");
    const other = await issueDeviceToken(account.userId, account.deviceId);
    const altered = `${account.token.slice(0, -1)}${account.token.endsWith("A") ? "B" : "A"}`;
    for (const token of [other.token, altered, "", "garbage", account.token.replace("wsd1", "wsd2")]) {
      expect(await authenticateDevice(sql, token)).toBeNull();
    }
  });

  it("stop working at once when the device is revoked, and the notifier hears of it", async () => {
    const account = await newAccount("revoke@example.com");
    const second = await issueDeviceToken(account.userId, crypto.randomUUID());
    const secondId = second.token.split(".")[2] ?? "";
    await addDevice(
      sql,
      account.userId,
      { deviceId: secondId, name: "desktop", tokenHash: second.secretHash },
      new Date(),
    );
    expect(await authenticateDevice(sql, second.token)).not.toBeNull();

    await revokeDevice(sql, account.userId, secondId, new Date());

    expect(await authenticateDevice(sql, second.token)).toBeNull();
    expect(await authenticateDevice(sql, account.token)).not.toBeNull();
    const devices = await listActiveDevices(sql, account.userId, account.deviceId);
    expect(devices.map((d) => d.deviceId)).toEqual([account.deviceId]);
    const events = await sql`SELECT event FROM outbox WHERE owner_id = ${account.userId}`;
    expect(events.map((e) => e.event)).toEqual([
      { type: "device_revoked", userId: account.userId, deviceId: secondId },
    ]);
  });

  it("of another user cannot revoke this user's device", async () => {
    const alice = await newAccount("alice@example.com");
    const bob = await newAccount("bob@example.com");
    await expect(revokeDevice(sql, bob.userId, alice.deviceId, new Date())).rejects.toMatchObject({
      code: "not_found",
    });
    expect(await authenticateDevice(sql, alice.token)).not.toBeNull();
  });
});

describe("accounts", () => {
  it("refuse a second account with the same email", async () => {
    await newAccount("twice@example.com");
    await expect(newAccount("twice@example.com")).rejects.toMatchObject({ code: "email_taken" });
  });
});
