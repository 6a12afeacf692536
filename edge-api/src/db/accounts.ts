import { ApiError, type BusEvent, type Device, type Me } from "@wsync/shared-protocol";
import type { Sql, TransactionSql } from "postgres";
import { publishEvents } from "./outbox.ts";
import { inTransaction } from "./transaction.ts";

/** Queries on users and devices. */

export interface NewDevice {
  deviceId: string;
  name: string;
  tokenHash: Uint8Array;
}

export interface NewAccount {
  userId: string;
  email: string;
  passwordHash: string;
  storageQuota: number;
  device: NewDevice;
}

async function insertDevice(tx: TransactionSql, ownerId: string, device: NewDevice, now: Date) {
  await tx`INSERT INTO devices (owner_id, id, name, token_hash, created_at)
    VALUES (${ownerId}, ${device.deviceId}, ${device.name}, ${device.tokenHash}, ${now})`;
}

/** Register: the user and its first device, or `email_taken`. */
export async function createAccountWithDevice(sql: Sql, account: NewAccount, now: Date): Promise<void> {
  await inTransaction(sql, async (tx) => {
    const inserted = await tx`
      INSERT INTO users (id, email, password_hash, storage_quota, created_at)
      VALUES (${account.userId}, ${account.email}, ${account.passwordHash}, ${account.storageQuota}, ${now})
      ON CONFLICT (email) DO NOTHING RETURNING id`;
    if (inserted.length === 0) throw new ApiError("email_taken", "an account with this email exists");
    await insertDevice(tx, account.userId, account.device, now);
  });
}

export async function findUserByEmail(sql: Sql, email: string) {
  const rows = await sql<{ id: string; password_hash: string }[]>`
    /* cross-owner: login looks the account up by email (docs/scaling.md: user_emails) */
    SELECT id, password_hash FROM users WHERE email = ${email}`;
  return rows[0] ?? null;
}

/** Login: each login is a new device with its own token. */
export async function addDevice(sql: Sql, ownerId: string, device: NewDevice, now: Date): Promise<void> {
  await inTransaction(sql, (tx) => insertDevice(tx, ownerId, device, now));
}

export async function listActiveDevices(
  sql: Sql,
  ownerId: string,
  currentDeviceId: string,
): Promise<Device[]> {
  const rows = await sql<{ id: string; name: string; last_sync_at: Date | null; created_at: Date }[]>`
    SELECT id, name, last_sync_at, created_at FROM devices
    WHERE owner_id = ${ownerId} AND revoked_at IS NULL ORDER BY created_at, id`;
  return rows.map((row) => ({
    deviceId: row.id,
    name: row.name,
    lastSyncAt: row.last_sync_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    current: row.id === currentDeviceId,
  }));
}

/**
 * Revokes a device: its token fails from this commit on (authentication reads the row every time),
 * and the notifier hears of it through the outbox to close the device's sockets. Revoking a revoked
 * device again is a no-op; another user's or an unknown device is `not_found`.
 */
export async function revokeDevice(sql: Sql, ownerId: string, deviceId: string, now: Date): Promise<void> {
  await inTransaction(sql, async (tx) => {
    const rows = await tx<{ revoked_at: Date | null }[]>`
      SELECT revoked_at FROM devices WHERE owner_id = ${ownerId} AND id = ${deviceId} FOR UPDATE`;
    const row = rows[0];
    if (!row) throw new ApiError("not_found", "no such device");
    if (row.revoked_at) return;
    await tx`UPDATE devices SET revoked_at = ${now} WHERE owner_id = ${ownerId} AND id = ${deviceId}`;
    const event: BusEvent = { type: "device_revoked", userId: ownerId, deviceId };
    await publishEvents(tx, ownerId, [event], now);
  });
}

/** Records that a device has just read the changes feed (its `lastSyncAt`). */
export async function touchDeviceSync(sql: Sql, ownerId: string, deviceId: string, now: Date): Promise<void> {
  await sql`UPDATE devices SET last_sync_at = ${now} WHERE owner_id = ${ownerId} AND id = ${deviceId}`;
}

export async function readAccount(sql: Sql, ownerId: string): Promise<Me> {
  const rows = await sql<{ email: string; storage_quota: string; storage_used: string }[]>`
    SELECT email, storage_quota, storage_used FROM users WHERE id = ${ownerId}`;
  const row = rows[0];
  if (!row) throw new ApiError("unauthorized", "no such account");
  return {
    userId: ownerId,
    email: row.email,
    storageQuota: Number(row.storage_quota),
    storageUsed: Number(row.storage_used),
  };
}
