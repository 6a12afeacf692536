import { ApiError } from "@wsync/shared-protocol";
import type { Sql, TransactionSql } from "postgres";

/**
 * Stored answers to requests made with an Idempotency-Key, per account. An answer is written by the
 * change's own transaction (see change-transaction.ts), so it exists if and only if the change
 * committed: a retry after a lost answer, a crash or a dropped connection finds either both or
 * neither, and never runs the change twice.
 */

/** A request that carries an Idempotency-Key. */
export interface IdempotentRequest {
  key: string;
  /** SHA-256 of method, path, query and body: the same key with another request is refused. */
  requestHash: string;
  /** The status the route answers with on success (201 for a create). */
  status: number;
}

export interface StoredAnswer {
  requestHash: string;
  status: number;
  body: unknown;
}

export async function findStoredAnswer(
  sql: Sql | TransactionSql,
  ownerId: string,
  key: string,
): Promise<StoredAnswer | null> {
  const [row] = await sql<{ request_hash: string; status: number; body: unknown }[]>`
    SELECT request_hash, status, body FROM idempotency_keys WHERE owner_id = ${ownerId} AND key = ${key}`;
  return row ? { requestHash: row.request_hash, status: row.status, body: row.body } : null;
}

/** The stored answer to replay for `request`, or `idempotency_key_reused` when it was another request. */
export function answerFor(
  stored: StoredAnswer,
  request: Pick<IdempotentRequest, "requestHash">,
): StoredAnswer {
  if (stored.requestHash !== request.requestHash) {
    throw new ApiError("idempotency_key_reused", "this Idempotency-Key was used for a different request");
  }
  return stored;
}

/** Records the answer inside the change's transaction (the owner row is locked, so no key race). */
export async function storeAnswer(
  tx: TransactionSql,
  ownerId: string,
  request: IdempotentRequest,
  body: unknown,
  now: Date,
): Promise<void> {
  await tx`
    INSERT INTO idempotency_keys (owner_id, key, request_hash, status, body, created_at)
    VALUES (${ownerId}, ${request.key}, ${request.requestHash}, ${request.status}, ${tx.json(body as never)}, ${now})`;
}

/** Housekeeping: the owners with keys older than `before` (a fan-out read that finds work). */
export async function ownersWithExpiredIdempotencyKeys(
  sql: Sql,
  before: Date,
  limit: number,
): Promise<string[]> {
  const rows = await sql<{ owner_id: string }[]>`
    /* cross-owner: housekeeping finds the owners with expired idempotency keys (fan-out read) */
    SELECT DISTINCT owner_id FROM idempotency_keys WHERE created_at < ${before} LIMIT ${limit}`;
  return rows.map((row) => row.owner_id);
}

/** Housekeeping: this owner's keys older than `before` may be used again (as new requests). */
export async function deleteExpiredIdempotencyKeys(sql: Sql, ownerId: string, before: Date): Promise<number> {
  return (await sql`DELETE FROM idempotency_keys WHERE owner_id = ${ownerId} AND created_at < ${before}`)
    .count;
}
