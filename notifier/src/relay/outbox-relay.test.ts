import { type BusEvent, encodeSyncToken } from "@wsync/shared-protocol";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../logger.ts";
import { OutboxRelay, type OutboxSource } from "./outbox-relay.ts";

function fileChanged(userId: string, sequence: number): BusEvent {
  return {
    type: "file_changed",
    userId,
    fileId: `file-${sequence}`,
    version: 1,
    action: "created",
    deviceId: "device-1",
    syncToken: encodeSyncToken(sequence),
  };
}

/** An outbox table in memory: the database edge of the relay, with the same claim-publish-mark step. */
class MemoryOutbox implements OutboxSource {
  readonly rows: { event: BusEvent; sent: boolean }[] = [];
  wake: () => void = () => {};
  busy = false;

  add(...events: BusEvent[]) {
    for (const event of events) this.rows.push({ event, sent: false });
    this.wake();
  }

  unsent() {
    return this.rows.filter((row) => !row.sent).map((row) => row.event);
  }

  async relayBatch(limit: number, publish: (events: BusEvent[]) => Promise<void>) {
    if (this.busy) return "busy" as const;
    const claimed = this.rows.filter((row) => !row.sent).slice(0, limit);
    if (claimed.length === 0) return 0;
    await publish(claimed.map((row) => row.event));
    for (const row of claimed) row.sent = true;
    return claimed.length;
  }

  async listen(wake: () => void) {
    this.wake = wake;
    return { unlisten: async () => {} };
  }
}

function until(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (condition() ? resolve() : setTimeout(check, 1));
    check();
  });
}

describe("outbox relay", () => {
  it("publishes every pending row in outbox order, in batches, and marks them sent", async () => {
    const outbox = new MemoryOutbox();
    const published: BusEvent[] = [];
    const events = Array.from({ length: 25 }, (_, i) => fileChanged("user-a", i + 1));
    outbox.add(...events);
    const relay = new OutboxRelay({
      source: outbox,
      publish: async (batch) => void published.push(...batch),
      logger: silentLogger,
      batchSize: 10,
    });
    await relay.start();
    await until(() => outbox.unsent().length === 0);
    await relay.close();
    expect(published).toEqual(events);
  });

  it("keeps rows unsent while the bus fails and sends them once it recovers", async () => {
    const outbox = new MemoryOutbox();
    const published: BusEvent[] = [];
    let busUp = false;
    let failedAttempts = 0;
    const relay = new OutboxRelay({
      source: outbox,
      publish: async (batch) => {
        if (!busUp) {
          failedAttempts += 1;
          throw new Error("broker not available");
        }
        published.push(...batch);
      },
      logger: silentLogger,
      retryMinMs: 1,
      retryMaxMs: 5,
    });
    await relay.start();
    outbox.add(fileChanged("user-a", 1), fileChanged("user-b", 1));
    await until(() => failedAttempts >= 3);
    expect(outbox.unsent()).toHaveLength(2);
    expect(published).toEqual([]);

    outbox.add(fileChanged("user-a", 2));
    busUp = true;
    await until(() => outbox.unsent().length === 0);
    await relay.close();
    expect(published).toEqual([fileChanged("user-a", 1), fileChanged("user-b", 1), fileChanged("user-a", 2)]);
  });

  it("does not lose rows added while a drain is publishing", async () => {
    const outbox = new MemoryOutbox();
    const published: BusEvent[] = [];
    let releaseFirst: () => void = () => {};
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    const relay = new OutboxRelay({
      source: outbox,
      publish: async (batch) => {
        if (published.length === 0) await firstHeld;
        published.push(...batch);
      },
      logger: silentLogger,
      sweepIntervalMs: 60_000,
    });
    await relay.start();
    outbox.add(fileChanged("user-a", 1));
    outbox.add(fileChanged("user-a", 2));
    releaseFirst();
    await until(() => outbox.unsent().length === 0);
    await relay.close();
    expect(published.map((event) => event.type === "file_changed" && event.syncToken)).toEqual([
      encodeSyncToken(1),
      encodeSyncToken(2),
    ]);
  });

  it("leaves the rows to the relay that holds the outbox, and takes over on a later sweep", async () => {
    const outbox = new MemoryOutbox();
    const published: BusEvent[] = [];
    outbox.busy = true;
    outbox.add(fileChanged("user-a", 1));
    const relay = new OutboxRelay({
      source: outbox,
      publish: async (batch) => void published.push(...batch),
      logger: silentLogger,
      sweepIntervalMs: 5,
    });
    await relay.start();
    await relay.idle();
    expect(published).toEqual([]);
    outbox.busy = false;
    await until(() => outbox.unsent().length === 0);
    await relay.close();
    expect(published).toEqual([fileChanged("user-a", 1)]);
  });
});
