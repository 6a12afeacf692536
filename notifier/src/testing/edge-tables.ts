import { createHash, randomBytes, randomUUID } from "node:crypto";
import { type BusEvent, encodeSyncToken, type FileAction } from "@wsync/shared-protocol";
import type { Sql } from "postgres";

/**
 * Rows in the edge API's tables, written the way its transactions write them: a change bumps
 * users.journal_seq and queues its outbox event with pg_notify in one transaction. The device token
 * follows the edge API's format (`wsd1.<owner>.<device>.<secret>`, SHA-256 of the secret stored), so
 * the real `authenticateDevice` accepts it; if that format changes, these tests fail loudly.
 */
export interface TestDevice {
  userId: string;
  deviceId: string;
  token: string;
}

export async function createUser(sql: Sql): Promise<string> {
  const userId = randomUUID();
  await sql`INSERT INTO users (id, email, password_hash, storage_quota)
    VALUES (${userId}, ${`${userId}@example.test`}, 'not-a-real-hash', ${1024 ** 3})`;
  return userId;
}

export async function createDevice(sql: Sql, userId: string): Promise<TestDevice> {
  const deviceId = randomUUID();
  const secret = randomBytes(32).toString("base64url");
  const tokenHash = createHash("sha256").update(secret).digest();
  await sql`INSERT INTO devices (owner_id, id, name, token_hash)
    VALUES (${userId}, ${deviceId}, 'test device', ${tokenHash})`;
  return { userId, deviceId, token: `wsd1.${userId}.${deviceId}.${secret}` };
}

/** One committed change of a file; returns its event (with the new sync token). */
export async function commitChange(
  sql: Sql,
  device: { userId: string; deviceId: string | null },
  action: FileAction = "modified",
): Promise<Extract<BusEvent, { type: "file_changed" }>> {
  return sql.begin(async (tx) => {
    const [row] = await tx<[{ journal_seq: string }]>`
      UPDATE users SET journal_seq = journal_seq + 1 WHERE id = ${device.userId} RETURNING journal_seq`;
    if (!row) throw new Error(`no user ${device.userId}`);
    const event = {
      type: "file_changed" as const,
      userId: device.userId,
      fileId: randomUUID(),
      version: 1,
      action,
      deviceId: device.deviceId,
      syncToken: encodeSyncToken(BigInt(row.journal_seq)),
    };
    await tx`INSERT INTO outbox (owner_id, event) VALUES (${device.userId}, ${tx.json(event)})`;
    await tx`SELECT pg_notify('wsync_outbox', ${device.userId})`;
    return event;
  });
}

/** Many changes of one user in one transaction (for the stalled-client and load cases). */
export async function commitManyChanges(sql: Sql, userId: string, count: number): Promise<bigint> {
  return sql.begin(async (tx) => {
    const [row] = await tx<[{ journal_seq: string }]>`
      UPDATE users SET journal_seq = journal_seq + ${count} WHERE id = ${userId} RETURNING journal_seq`;
    if (!row) throw new Error(`no user ${userId}`);
    const last = BigInt(row.journal_seq);
    const first = last - BigInt(count) + 1n;
    const events = Array.from({ length: count }, (_, i) => ({
      type: "file_changed",
      userId,
      fileId: randomUUID(),
      version: 1,
      action: "modified",
      deviceId: null,
      syncToken: encodeSyncToken(first + BigInt(i)),
    }));
    await tx`INSERT INTO outbox (owner_id, event)
      SELECT ${userId}, e FROM jsonb_array_elements(${tx.json(events)}) WITH ORDINALITY AS t(e, n) ORDER BY n`;
    await tx`SELECT pg_notify('wsync_outbox', ${userId})`;
    return last;
  });
}

export async function revokeDevice(sql: Sql, device: TestDevice): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`UPDATE devices SET revoked_at = now() WHERE owner_id = ${device.userId} AND id = ${device.deviceId}`;
    const event: BusEvent = { type: "device_revoked", userId: device.userId, deviceId: device.deviceId };
    await tx`INSERT INTO outbox (owner_id, event) VALUES (${device.userId}, ${tx.json(event)})`;
    await tx`SELECT pg_notify('wsync_outbox', ${device.userId})`;
  });
}

export async function unsentOutboxRows(sql: Sql): Promise<number> {
  const [row] = await sql<[{ count: string }]>`SELECT count(*) AS count FROM outbox WHERE sent_at IS NULL`;
  return Number(row?.count ?? 0);
}
