import { base64UrlEncode, constantTimeEqual, sha256 } from "./bytes.ts";

/**
 * A device token: `wsd1.<ownerId>.<deviceId>.<secret>`, the secret being 256 random bits in base64url.
 * The ids let a lookup go straight to the owner's device row (owner-keyed, so it stays on one shard);
 * only the SHA-256 of the secret is stored. A fast hash is right here: the secret has full entropy, so
 * there is nothing to brute-force, unlike a password.
 */
const PREFIX = "wsd1";
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const secretPattern = /^[A-Za-z0-9_-]{43}$/;

export interface IssuedToken {
  token: string;
  secretHash: Uint8Array;
}

export interface ParsedToken {
  ownerId: string;
  deviceId: string;
  secret: string;
}

export async function issueDeviceToken(ownerId: string, deviceId: string): Promise<IssuedToken> {
  const secret = base64UrlEncode(crypto.getRandomValues(new Uint8Array(32)));
  return { token: `${PREFIX}.${ownerId}.${deviceId}.${secret}`, secretHash: await sha256(secret) };
}

/** The parts of a token, or null when it cannot be one of ours (checked before any database work). */
export function parseDeviceToken(token: string): ParsedToken | null {
  const parts = token.split(".");
  if (parts.length !== 4 || parts[0] !== PREFIX) return null;
  const [, ownerId = "", deviceId = "", secret = ""] = parts;
  if (!uuidPattern.test(ownerId) || !uuidPattern.test(deviceId) || !secretPattern.test(secret)) return null;
  return { ownerId, deviceId, secret };
}

export async function secretMatches(secret: string, storedHash: Uint8Array): Promise<boolean> {
  return constantTimeEqual(await sha256(secret), storedHash);
}
