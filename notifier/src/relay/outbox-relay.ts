import type { BusEvent } from "@wsync/shared-protocol";
import type { Logger } from "../logger.ts";

/**
 * The outbox as the relay sees it. `relayBatch` is one claim-publish-mark step: it claims the oldest
 * unsent rows, hands their events to `publish`, and marks exactly those rows sent only if `publish`
 * resolved. When it throws, nothing is marked and the rows stay for a later try.
 */
export interface OutboxSource {
  /** How many rows went out, or "busy" when another relay instance holds the outbox right now. */
  relayBatch(limit: number, publish: (events: BusEvent[]) => Promise<void>): Promise<number | "busy">;
  /** Calls `wake` whenever rows may have been added (LISTEN/NOTIFY, and after a reconnect). */
  listen(wake: () => void): Promise<{ unlisten(): Promise<void> }>;
  /** Deletes rows sent longer ago than `retentionMs`; returns how many. */
  pruneSent?(retentionMs: number): Promise<number>;
}

export interface OutboxRelayOptions {
  source: OutboxSource;
  publish: (events: BusEvent[]) => Promise<void>;
  logger: Logger;
  batchSize?: number;
  /**
   * The safety sweep: a drain this often even without a notification, for notifications lost while
   * the listening connection was down and for rows another relay left behind when it died.
   */
  sweepIntervalMs?: number;
  /** First retry delay after a failure (the bus or the database is down); doubles up to the max. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Sent rows are kept this long (for an operator to look into), then pruned. */
  sentRetentionMs?: number;
  pruneIntervalMs?: number;
}

/**
 * Moves outbox rows to the bus. The outbox row, written in the same transaction as the change, is the
 * source of truth: a row is marked sent only after the bus acknowledged it, so a crash or a bus outage
 * delays notifications and never loses one (at-least-once; clients go by sync token, so duplicates
 * are harmless).
 */
export class OutboxRelay {
  readonly #options: Required<OutboxRelayOptions>;
  #listening: { unlisten(): Promise<void> } | undefined;
  #sweep: NodeJS.Timeout | undefined;
  #prune: NodeJS.Timeout | undefined;
  #pruning: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;
  #wokenWhileDraining = false;
  #failures = 0;
  #closed = false;

  constructor(options: OutboxRelayOptions) {
    this.#options = {
      ...options,
      batchSize: options.batchSize ?? 500,
      sweepIntervalMs: options.sweepIntervalMs ?? 5_000,
      retryMinMs: options.retryMinMs ?? 200,
      retryMaxMs: options.retryMaxMs ?? 10_000,
      sentRetentionMs: options.sentRetentionMs ?? 24 * 3600_000,
      pruneIntervalMs: options.pruneIntervalMs ?? 60_000,
    };
  }

  async start(): Promise<void> {
    this.#listening = await this.#options.source.listen(() => this.wake());
    this.#sweep = setInterval(() => this.wake(), this.#options.sweepIntervalMs);
    this.#sweep.unref();
    if (this.#options.source.pruneSent) {
      this.#prune = setInterval(() => this.#pruneSent(), this.#options.pruneIntervalMs);
      this.#prune.unref();
    }
    this.wake();
  }

  /** Drains the outbox soon. Wakes that arrive during a drain or a retry wait are folded into one. */
  wake(): void {
    if (this.#closed) return;
    if (this.#draining) {
      this.#wokenWhileDraining = true;
      return;
    }
    // While backing off after a failure, a burst of new rows must not turn into a burst of retries.
    if (this.#retryTimer) return;
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
      if (this.#wokenWhileDraining) {
        this.#wokenWhileDraining = false;
        this.wake();
      }
    });
  }

  /** Resolves once the drain in progress (if any) is over: for tests and for an orderly stop. */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweep);
    clearInterval(this.#prune);
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    await this.idle();
    await this.#pruning;
    await this.#listening?.unlisten();
  }

  #pruneSent(): void {
    const { source, sentRetentionMs, logger } = this.#options;
    if (this.#pruning || this.#closed || !source.pruneSent) return;
    this.#pruning = source
      .pruneSent(sentRetentionMs)
      .then(
        (pruned) => void (pruned > 0 && logger.info("pruned sent outbox rows", { pruned })),
        (error: unknown) => logger.warn("could not prune sent outbox rows", { error }),
      )
      .finally(() => {
        this.#pruning = undefined;
      });
  }

  async #drain(): Promise<void> {
    const { source, publish, batchSize, logger } = this.#options;
    try {
      for (;;) {
        if (this.#closed) return;
        const sent = await source.relayBatch(batchSize, publish);
        // "busy": another relay is draining; it was notified of the same rows (or the sweep will be).
        if (sent === "busy" || sent < batchSize) break;
      }
      if (this.#failures > 0) logger.info("outbox relay recovered", { failedAttempts: this.#failures });
      this.#failures = 0;
    } catch (error) {
      this.#failures += 1;
      const delay = this.#retryDelay();
      logger.warn("outbox relay could not publish; rows stay in the outbox", {
        error,
        attempt: this.#failures,
        retryInMs: delay,
      });
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        this.wake();
      }, delay);
    }
  }

  /** Exponential backoff with full jitter, so several relays do not retry in step. */
  #retryDelay(): number {
    const { retryMinMs, retryMaxMs } = this.#options;
    const ceiling = Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(this.#failures - 1, 20));
    return Math.max(retryMinMs, Math.round(Math.random() * ceiling));
  }
}
