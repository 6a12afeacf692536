import type { Sql } from "postgres";

/** Stored answers to requests made with an Idempotency-Key, per account. */

export type KeyClaim =
  | { kind: "claimed" }
  | { kind: "replay"; status: number; body: unknown }
  | { kind: "in_progress" }
  | { kind: "reused" };

/** A pending claim older than this is taken to be abandoned (its request died mid-way). */
const ABANDONED_AFTER_MS = 60_000;

/**
 * Claims `key` for a request, or says what became of an earlier request with the same key. The claim
 * is one atomic statement, so two concurrent requests with one key never both run.
 */
export async function claimIdempotencyKey(
  sql: Sql,
  ownerId: string,
  key: string,
  requestHash: string,
  now: Date,
): Promise<KeyClaim> {
  const abandoned = new Date(now.getTime() - ABANDONED_AFTER_MS);
  const [claimed] = await sql`
    INSERT INTO idempotency_keys (owner_id, key, request_hash, status, body, created_at)
    VALUES (${ownerId}, ${key}, ${requestHash}, 0, 'null', ${now})
    ON CONFLICT (owner_id, key) DO UPDATE SET request_hash = excluded.request_hash, created_at = excluded.created_at
      WHERE idempotency_keys.status = 0 AND idempotency_keys.created_at < ${abandoned}
        AND idempotency_keys.request_hash = excluded.request_hash
    RETURNING 1`;
  if (claimed) return { kind: "claimed" };
  const [existing] = await sql<{ request_hash: string; status: number; body: unknown }[]>`
    SELECT request_hash, status, body FROM idempotency_keys WHERE owner_id = ${ownerId} AND key = ${key}`;
  if (!existing) return claimIdempotencyKey(sql, ownerId, key, requestHash, now);
  if (existing.request_hash !== requestHash) return { kind: "reused" };
  if (existing.status === 0) return { kind: "in_progress" };
  return { kind: "replay", status: existing.status, body: existing.body };
}

export async function storeIdempotentAnswer(
  sql: Sql,
  ownerId: string,
  key: string,
  status: number,
  body: unknown,
) {
  await sql`UPDATE idempotency_keys SET status = ${status}, body = ${sql.json(body as never)}
    WHERE owner_id = ${ownerId} AND key = ${key}`;
}

/** Lets the key be used again (the request failed, so a retry must run it afresh). */
export async function releaseIdempotencyKey(sql: Sql, ownerId: string, key: string) {
  await sql`DELETE FROM idempotency_keys WHERE owner_id = ${ownerId} AND key = ${key} AND status = 0`;
}

export async function deleteExpiredIdempotencyKeys(sql: Sql, before: Date): Promise<number> {
  return (await sql`DELETE FROM idempotency_keys WHERE created_at < ${before}`).count;
}
