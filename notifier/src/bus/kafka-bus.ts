import { randomUUID } from "node:crypto";
import { type BusEvent, BusEvent as BusEventSchema } from "@wsync/shared-protocol";
import { type Admin, type Consumer, Kafka, type LogEntry, logLevel, type Producer } from "kafkajs";
import pRetry from "p-retry";
import type { Logger } from "../logger.ts";
import type { BusHandler, EventBus } from "./event-bus.ts";

export const DEFAULT_TOPIC = "wsync.file-events";

export interface KafkaBusOptions {
  brokers: string[];
  /** Topic of file events; created on start when missing. */
  topic?: string;
  /**
   * Prefix of this instance's consumer group. Each instance gets a group of its own
   * (`<prefix>.<uuid>`), so every instance reads every event: a user's devices may sit on any of them.
   */
  groupId?: string;
  /** Partitions when the topic is created here; more partitions spread a cluster's load, not ours. */
  partitions?: number;
  logger: Logger;
  /** A publish not acknowledged by then fails, and the producer is replaced (default 30 s). */
  sendTimeoutMs?: number;
}

/**
 * The bus over Kafka (kafkajs). Publishing waits for acknowledgement by all in-sync replicas; records
 * are keyed by user id, so one user's events land on one partition and stay in order.
 */
export class KafkaBus implements EventBus {
  readonly #kafka: Kafka;
  readonly #topic: string;
  readonly #groupId: string;
  readonly #partitions: number;
  readonly #logger: Logger;
  #producer: Producer;
  readonly #admin: Admin;
  #consumer: Consumer | undefined;
  #connected = false;
  #producerReady: Promise<void> | undefined;
  readonly #sendTimeoutMs: number;

  constructor(options: KafkaBusOptions) {
    this.#topic = options.topic ?? DEFAULT_TOPIC;
    this.#groupId = `${options.groupId ?? "wsync-notifier"}.${randomUUID()}`;
    this.#partitions = options.partitions ?? 12;
    this.#logger = options.logger;
    this.#kafka = new Kafka({
      clientId: "wsync-notifier",
      brokers: options.brokers,
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => this.#log(entry),
      // Short retries: a failed publish goes back to the relay, which keeps the rows and backs off.
      retry: { initialRetryTime: 200, maxRetryTime: 2_000, retries: 3 },
    });
    this.#producer = this.#kafka.producer({ allowAutoTopicCreation: false });
    this.#admin = this.#kafka.admin();
    this.#sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
  }

  /** Connects, and creates the topic if it is missing. Fails when Kafka cannot be reached. */
  async connect(): Promise<void> {
    await this.#admin.connect();
    await this.#admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: this.#topic, numPartitions: this.#partitions }],
    });
    this.#producerReady = this.#producer.connect();
    await this.#producerReady;
    this.#connected = true;
  }

  async publish(events: readonly BusEvent[]): Promise<void> {
    if (!this.#connected) throw new Error("the Kafka bus is not connected");
    if (events.length === 0) return;
    // kafkajs normally fails a send after its own retries, but a send caught by a broker restart has
    // been seen to never settle, and the relay holds its outbox lock until it does. Past the deadline
    // the send counts as failed (the rows stay unsent; at-least-once) and a fresh producer takes over.
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new Error(`Kafka did not acknowledge within ${this.#sendTimeoutMs} ms`));
      }, this.#sendTimeoutMs);
    });
    try {
      await Promise.race([this.#send(events), deadline]);
    } catch (error) {
      if (timedOut) this.#replaceProducer();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async #send(events: readonly BusEvent[]): Promise<void> {
    this.#producerReady ??= this.#producer.connect().catch((error: unknown) => {
      this.#producerReady = undefined;
      throw error;
    });
    await this.#producerReady;
    await this.#producer.send({
      topic: this.#topic,
      acks: -1,
      messages: events.map((event) => ({ key: event.userId, value: JSON.stringify(event) })),
    });
  }

  #replaceProducer(): void {
    this.#logger.warn("kafka producer did not answer; replacing it", { timeoutMs: this.#sendTimeoutMs });
    const stuck = this.#producer;
    void stuck.disconnect().catch(() => {});
    this.#producer = this.#kafka.producer({ allowAutoTopicCreation: false });
    this.#producerReady = undefined;
  }

  async subscribe(handler: BusHandler): Promise<void> {
    if (this.#consumer) throw new Error("the Kafka bus has one subscriber per instance");
    // A fresh group has no committed offsets, and a consumer that restarts before committing any (Kafka
    // went away early) would jump to the newest offset and skip what was published meanwhile. Committing
    // the current ends first makes "everything published after subscribe" hold across restarts.
    // Right after the topic is created (here or by another instance at the same moment) the
    // partition leaders may not be known yet: retried with backoff.
    await pRetry(
      async () => {
        const ends = await this.#admin.fetchTopicOffsets(this.#topic);
        await this.#admin.setOffsets({
          groupId: this.#groupId,
          topic: this.#topic,
          partitions: ends.map(({ partition, high }) => ({ partition, offset: high })),
        });
      },
      { retries: 8, minTimeout: 100, maxTimeout: 2_000 },
    );
    const consumer = this.#kafka.consumer({
      groupId: this.#groupId,
      // After Kafka comes back, the group waits for this instance's member from before the outage to
      // rejoin or time out before it hands out partitions again: short timeouts, short catch-up.
      sessionTimeout: 10_000,
      rebalanceTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 100,
      // Kafka being away for a while is an outage to wait out, never a reason to stop consuming.
      retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 10, restartOnFailure: async () => true },
    });
    consumer.on(consumer.events.CRASH, ({ payload }) =>
      this.#logger.warn("kafka consumer crashed; restarting", {
        error: payload.error,
        restart: payload.restart,
      }),
    );
    this.#consumer = consumer;
    await consumer.connect();
    // Partitions added later have no committed offset: reading those from the start loses nothing.
    await consumer.subscribe({ topics: [this.#topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        const event = parseEvent(message.value);
        if (!event) {
          this.#logger.error("a bus record is not a bus event; skipped", {
            partition,
            offset: message.offset,
          });
          return;
        }
        handler(event);
      },
    });
  }

  async close(): Promise<void> {
    this.#connected = false;
    await this.#consumer
      ?.disconnect()
      .catch((error) => this.#logger.warn("kafka consumer disconnect", { error }));
    await this.#producer
      .disconnect()
      .catch((error) => this.#logger.warn("kafka producer disconnect", { error }));
    // The group belongs to this instance alone and would otherwise linger until offsets expire.
    if (this.#consumer) {
      await this.#admin
        .deleteGroups([this.#groupId])
        .catch((error) => this.#logger.warn("could not delete this instance's consumer group", { error }));
    }
    await this.#admin.disconnect().catch(() => {});
  }

  #log(entry: LogEntry): void {
    const fields = { namespace: entry.namespace, ...entry.log };
    const message = `kafka: ${entry.log.message}`;
    // kafkajs logs each failed connection as an error; while Kafka is away that is an expected outage.
    if (entry.level <= logLevel.WARN) this.#logger.warn(message, fields);
    else this.#logger.info(message, fields);
  }
}

function parseEvent(value: Buffer | null): BusEvent | null {
  if (!value) return null;
  try {
    const parsed = BusEventSchema.safeParse(JSON.parse(value.toString("utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
