import type { VersionReceipt } from "@wsync/shared-protocol";
import type { Sql, TransactionSql } from "postgres";
import { lockOwnerForChange } from "./changes.ts";
import { answerFor, findStoredAnswer, type IdempotentRequest, storeAnswer } from "./idempotency-keys.ts";
import { inTransaction } from "./transaction.ts";

/** Who makes a change, when, and (optionally) under which Idempotency-Key. */
export interface Writer {
  ownerId: string;
  deviceId: string | null;
  now: Date;
  idempotency?: IdempotentRequest | undefined;
}

export interface ChangeOutcome<T = VersionReceipt> {
  receipt: T;
  /** True when this is the stored answer of an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

/**
 * Runs one change of a user's files: locks the owner row (so the user's changes run one at a time),
 * then, for a request with an Idempotency-Key, answers from the stored answer if that key already
 * committed; otherwise runs `work` and stores its answer in the same transaction. Two concurrent
 * requests with one key queue on the owner lock: the second finds the first one's answer.
 */
export async function runChange<T = VersionReceipt>(
  sql: Sql,
  writer: Writer,
  work: (tx: TransactionSql) => Promise<T>,
): Promise<ChangeOutcome<T>> {
  return inTransaction(sql, async (tx) => {
    await lockOwnerForChange(tx, writer.ownerId);
    const request = writer.idempotency;
    if (request) {
      const stored = await findStoredAnswer(tx, writer.ownerId, request.key);
      if (stored) return { receipt: answerFor(stored, request).body as T, replayed: true };
    }
    const receipt = await work(tx);
    if (request) await storeAnswer(tx, writer.ownerId, request, receipt, writer.now);
    return { receipt, replayed: false };
  });
}
