import type { BusEvent } from "@wsync/shared-protocol";
import type { TransactionSql } from "postgres";

/** The channel the notifier LISTENs on; the payload is the owner id whose outbox has new rows. */
export const OUTBOX_CHANNEL = "wsync_outbox";

/**
 * Queues events for the notifier inside the caller's transaction, so they exist if and only if the
 * change they describe commits. NOTIFY is transactional too: it is delivered at commit.
 */
export async function publishEvents(tx: TransactionSql, ownerId: string, events: BusEvent[], now: Date) {
  if (events.length === 0) return;
  const texts = events.map((event) => JSON.stringify(event));
  await tx`
    INSERT INTO outbox (owner_id, event, created_at)
    SELECT ${ownerId}, t.event::jsonb, ${now} FROM unnest(${texts}::text[]) WITH ORDINALITY AS t(event, i)
    ORDER BY t.i`;
  await tx`SELECT pg_notify(${OUTBOX_CHANNEL}, ${ownerId})`;
}
