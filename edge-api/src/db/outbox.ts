import type { BusEvent } from "@wsync/shared-protocol";
import type { TransactionSql } from "postgres";

/** The channel the notifier LISTENs on; the payload is the owner id whose outbox has new rows. */
export const OUTBOX_CHANNEL = "wsync_outbox";

/**
 * Queues an event for the notifier inside the caller's transaction, so it exists if and only if the
 * change it describes committed. NOTIFY is transactional too: it is delivered at commit.
 */
export async function publishEvent(tx: TransactionSql, ownerId: string, event: BusEvent, now: Date) {
  await tx`INSERT INTO outbox (owner_id, event, created_at) VALUES (${ownerId}, ${tx.json(event)}, ${now})`;
  await tx`SELECT pg_notify(${OUTBOX_CHANNEL}, ${ownerId})`;
}
