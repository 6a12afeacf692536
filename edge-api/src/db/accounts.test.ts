import { createTestDatabase, type TestDatabase } from "@wsync/test-fixtures";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDeviceToken } from "../auth/device-token.ts";
import { authenticateDevice } from "../device-auth.ts";
import {
  addDevice,
  createAccountWithDevice,
  findUserByEmail,
  listActiveDevices,
  revokeDevice,
} from "./accounts.ts";
import { applyMigrations, loadMigrations, migrate } from "./migrate.ts";
import { claimEmail, confirmEmail } from "./user-emails.ts";

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

const TAKEOVER_SECONDS = 300;
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

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
    TAKEOVER_SECONDS,
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

describe("the register saga over user_emails", () => {
  const claimOf = async (email: string) =>
    (await sql`SELECT user_id, state FROM user_emails WHERE email = ${email}`)[0];
  const usersWith = async (email: string) =>
    (await sql`SELECT count(*)::int AS n FROM users WHERE email = ${email}`)[0]?.n;

  it("of concurrent registers of one email, exactly one makes an account; the others get email_taken", async () => {
    const email = "race@example.com";
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => newAccount(email)));
    const made = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
    expect(made).toHaveLength(1);
    for (const o of outcomes) {
      if (o.status === "rejected") expect(o.reason).toMatchObject({ code: "email_taken" });
    }
    expect(await claimOf(email)).toEqual({ user_id: made[0]?.userId, state: "confirmed" });
    expect(await usersWith(email)).toBe(1);
    expect((await findUserByEmail(sql, email))?.id).toBe(made[0]?.userId);
  });

  it("a register that died after claiming is taken over once the claim is older than the takeover time", async () => {
    const email = "died-claiming@example.com";
    const dead = crypto.randomUUID();
    expect(await claimEmail(sql, email, dead, minutesAgo(1), minutesAgo(5))).toBe(true);
    // Still fresh: it may be a register in progress.
    await expect(newAccount(email)).rejects.toMatchObject({ code: "email_taken" });
    expect(await findUserByEmail(sql, email)).toBeNull();

    await sql`UPDATE user_emails SET claimed_at = ${minutesAgo(6)} WHERE email = ${email}`;
    const account = await newAccount(email);
    expect(await claimOf(email)).toEqual({ user_id: account.userId, state: "confirmed" });
    expect((await findUserByEmail(sql, email))?.id).toBe(account.userId);
    // The dead register, were it to wake up, no longer holds the email.
    expect(await confirmEmail(sql, email, dead)).toBe(false);
  });

  it("a register that died after creating its user keeps the email: login confirms it, a new register is email_taken", async () => {
    const email = "died-confirming@example.com";
    const userId = crypto.randomUUID();
    await claimEmail(sql, email, userId, minutesAgo(10), minutesAgo(15));
    await sql`INSERT INTO users (id, email, password_hash, storage_quota) VALUES (${userId}, ${email}, 'h', 1)`;
    expect((await findUserByEmail(sql, email))?.id).toBe(userId);
    expect(await claimOf(email)).toEqual({ user_id: userId, state: "confirmed" });
    await expect(newAccount(email)).rejects.toMatchObject({ code: "email_taken" });

    const other = "died-confirming-2@example.com";
    const otherId = crypto.randomUUID();
    await claimEmail(sql, other, otherId, minutesAgo(10), minutesAgo(15));
    await sql`INSERT INTO users (id, email, password_hash, storage_quota) VALUES (${otherId}, ${other}, 'h', 1)`;
    // Past the takeover time, but its user exists: confirmed for it, not taken over.
    await expect(newAccount(other)).rejects.toMatchObject({ code: "email_taken" });
    expect(await claimOf(other)).toEqual({ user_id: otherId, state: "confirmed" });
  });

  it("no unique index on users.email remains: uniqueness lives in user_emails alone", async () => {
    const indexes = await sql`SELECT indexname FROM pg_indexes WHERE tablename = 'users'`;
    expect(indexes.map((i) => i.indexname)).toEqual(["users_pkey"]);
  });
});
