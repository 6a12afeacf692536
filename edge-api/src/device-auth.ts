import type { Sql } from "postgres";
import { parseDeviceToken, secretMatches } from "./auth/device-token.ts";

export interface AuthenticatedDevice {
  userId: string;
  deviceId: string;
}

/**
 * Who a bearer token belongs to, or null for a malformed, unknown or revoked one. Reads the database
 * on every call (no cache), so a revoked device fails at once, here and in the notifier, which shares
 * this function. `sql` is any postgres.js handle on the edge API's database.
 */
export async function authenticateDevice(sql: Sql, token: string): Promise<AuthenticatedDevice | null> {
  const parsed = parseDeviceToken(token);
  if (!parsed) return null;
  const rows = await sql<{ token_hash: Uint8Array }[]>`
    SELECT token_hash FROM devices
    WHERE owner_id = ${parsed.ownerId} AND id = ${parsed.deviceId} AND revoked_at IS NULL`;
  const row = rows[0];
  if (!row || !(await secretMatches(parsed.secret, new Uint8Array(row.token_hash)))) return null;
  return { userId: parsed.ownerId, deviceId: parsed.deviceId };
}
