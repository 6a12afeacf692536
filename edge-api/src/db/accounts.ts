import { ApiError, type BusEvent, type Device, type Me } from "@wsync/shared-protocol";
import type { Sql, TransactionSql } from "postgres";
import { publishEvents } from "./outbox.ts";
import { inTransaction } from "./transaction.ts";
import { claimEmail, confirmEmail, readEmailClaim, releaseEmail } from "./user-emails.ts";

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

function emailTaken(): ApiError {
  return new ApiError("email_taken", "an account with this email exists");
}

/**
 * Register: the user and its first device, or `email_taken`. A saga of single-shard steps (no
 * transaction spans user_emails and users, which live on different shards under Citus): claim the
 * email, create the user and device in one transaction on the user's shard, confirm the email. A
 * register that dies in between leaves a pending claim, which a later register takes over or
 * confirms (claimEmail).
 */
export async function createAccountWithDevice(
  sql: Sql,
  account: NewAccount,
  now: Date,
  takeoverAfterSeconds: number,
): Promise<void> {
  const takeoverBefore = new Date(now.getTime() - takeoverAfterSeconds * 1000);
  if (!(await claimEmail(sql, account.email, account.userId, now, takeoverBefore))) throw emailTaken();
  try {
    await inTransaction(sql, async (tx) => {
      await tx`
        INSERT INTO users (id, email, password_hash, storage_quota, created_at)
        VALUES (${account.userId}, ${account.email}, ${account.passwordHash}, ${account.storageQuota}, ${now})`;
      await insertDevice(tx, account.userId, account.device, now);
    });
  } catch (error) {
    await releaseEmail(sql, account.email, account.userId);
    throw error;
  }
  if (!(await confirmEmail(sql, account.email, account.userId))) {
    // Taken over while this register was slower than the takeover time: the email is the other
    // register's, and this user could never log in. It got no token yet; remove it.
    await sql`DELETE FROM users WHERE id = ${account.userId}`;
    throw emailTaken();
  }
}

/**
 * Login's lookup: the email's account (user_emails, one shard), then its row (users by id, another
 * shard). A pending claim counts once its user exists (its register died before confirming): it is
 * confirmed here, unless a later register took it over.
 */
export async function findUserByEmail(sql: Sql, email: string) {
  const claim = await readEmailClaim(sql, email);
  if (!claim) return null;
  const rows = await sql<{ id: string; password_hash: string }[]>`
    SELECT id, password_hash FROM users WHERE id = ${claim.user_id}`;
  const user = rows[0];
  if (!user) return null;
  if (claim.state === "pending" && !(await confirmEmail(sql, email, user.id))) return null;
  return user;
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
