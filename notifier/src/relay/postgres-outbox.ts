import { type BusEvent, BusEvent as BusEventSchema } from "@wsync/shared-protocol";
import type { Sql } from "postgres";
import type { Logger } from "../logger.ts";
import type { OutboxSource } from "./outbox-relay.ts";

/** The channel the edge API's change transactions `pg_notify` with the owner's id. */
export const OUTBOX_CHANNEL = "wsync_outbox";

/**
 * One relay at a time works the outbox: a transaction-scoped advisory lock taken per batch. It keeps
 * each user's events in outbox order on the bus even with several relay instances (with SKIP LOCKED
 * alone, two relays could publish one user's consecutive rows in either order), and it is released by
 * the database itself when a relay dies mid-batch, so no lease or heartbeat is needed.
 */
const RELAY_LOCK_KEY = 7_726_213_405_337_001n;

const PRUNE_BATCH = 5_000;

export function postgresOutbox(sql: Sql, logger: Logger): OutboxSource {
  return {
    async relayBatch(limit, publish) {
      return sql.begin(async (tx) => {
        // A relay that stalls mid-batch (a hung publish, a frozen process) must not hold the outbox
        // lock forever: PostgreSQL ends the idle transaction, the lock goes, another try takes over.
        await tx`SET LOCAL idle_in_transaction_session_timeout = '90s'`;
        const [lock] = await tx<
          [{ locked: boolean }]
        >`SELECT pg_try_advisory_xact_lock(${RELAY_LOCK_KEY.toString()}::bigint) AS locked`;
        if (!lock?.locked) return "busy" as const;
        const rows = await tx<{ id: string; event: unknown }[]>`
          SELECT id, event FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ${limit}`;
        if (rows.length === 0) return 0;
        const events: BusEvent[] = [];
        for (const row of rows) {
          const parsed = BusEventSchema.safeParse(row.event);
          // A row no notifier can understand would block the outbox forever; it is logged and skipped.
          if (parsed.success) events.push(parsed.data);
          else
            logger.error("outbox row is not a bus event; skipped", {
              outboxId: row.id,
              issues: parsed.error.issues,
            });
        }
        if (events.length > 0) await publish(events);
        // Exactly the ids published: a row with a lower id whose transaction commits later is not
        // among them and goes out with the next batch.
        await tx`UPDATE outbox SET sent_at = now() WHERE id IN ${tx(rows.map((row) => row.id))}`;
        return rows.length;
      });
    },

    async pruneSent(retentionMs) {
      let total = 0;
      for (;;) {
        // Only the oldest rows by primary key are looked at, so each round is one short index range
        // scan whatever the table's size; rows are sent roughly in id order, so the old ones are there.
        const deleted = await sql`
          WITH oldest AS (SELECT id, sent_at FROM outbox ORDER BY id LIMIT ${PRUNE_BATCH})
          DELETE FROM outbox USING oldest
          WHERE outbox.id = oldest.id AND oldest.sent_at < now() - make_interval(secs => ${retentionMs / 1000})`;
        total += deleted.count;
        if (deleted.count < PRUNE_BATCH) return total;
      }
    },

    async listen(wake) {
      // The third callback runs on every (re)connect of the listening connection: notifications sent
      // while it was down are lost, so it drains then too.
      const listening = await sql.listen(OUTBOX_CHANNEL, () => wake(), wake);
      return { unlisten: () => listening.unlisten() };
    },
  };
}
