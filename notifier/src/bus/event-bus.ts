import type { BusEvent } from "@wsync/shared-protocol";

export type BusHandler = (event: BusEvent) => void;

/**
 * Where the relay puts outbox events and where fan-out reads them. Events are keyed by `userId`, so an
 * implementation that partitions (Kafka) keeps each user's events in order.
 */
export interface EventBus {
  /**
   * Resolves only once the bus has accepted every event durably (Kafka: acknowledged by all in-sync
   * replicas). The relay marks outbox rows sent after this and never before; a rejection means none of
   * the events may be counted as sent.
   */
  publish(events: readonly BusEvent[]): Promise<void>;
  /**
   * Every event published after this resolves reaches `handler` in this process, including events of
   * users whose sockets sit on other instances: each instance reads every event.
   */
  subscribe(handler: BusHandler): Promise<void>;
  close(): Promise<void>;
}
