import { base64Decode, base64Encode, constantTimeEqual } from "./bytes.ts";

/**
 * Password hashes: PBKDF2-SHA256 through Web Crypto, which every edge runtime has (Node runs it on its
 * thread pool, off the event loop). Stored as `pbkdf2-sha256$<iterations>$<salt>$<hash>` so the
 * iteration count can rise later without breaking stored hashes.
 */
export const PASSWORD_HASH_ITERATIONS = 600_000;
const HASH_BYTES = 32;

async function derive(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    HASH_BYTES * 8,
  );
  return new Uint8Array(bits);
}

export async function hashPassword(password: string, iterations = PASSWORD_HASH_ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt, iterations);
  return `pbkdf2-sha256$${iterations}$${base64Encode(salt)}$${base64Encode(hash)}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iterationsText, saltText, hashText] = stored.split("$");
  const iterations = Number(iterationsText);
  const salt = base64Decode(saltText ?? "");
  const expected = base64Decode(hashText ?? "");
  if (scheme !== "pbkdf2-sha256" || !Number.isSafeInteger(iterations) || !salt || !expected) return false;
  return constantTimeEqual(await derive(password, salt, iterations), expected);
}

/**
 * Spends the same time as a real check, for a login with an unknown email: answering faster would tell
 * an attacker which emails have accounts.
 */
export async function verifyNoPassword(password: string): Promise<false> {
  await derive(password, new Uint8Array(16), PASSWORD_HASH_ITERATIONS);
  return false;
}
