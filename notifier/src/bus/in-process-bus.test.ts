import { type BusEvent, encodeSyncToken } from "@wsync/shared-protocol";
import { describe, expect, it } from "vitest";
import { InProcessBus } from "./in-process-bus.ts";

const change = (userId: string, sequence: number): BusEvent => ({
  type: "file_changed",
  userId,
  fileId: "f",
  version: sequence,
  action: "modified",
  deviceId: null,
  syncToken: encodeSyncToken(sequence),
});

describe("in-process bus", () => {
  it("hands every published event, in order, to every subscriber before publish resolves", async () => {
    const bus = new InProcessBus();
    const first: BusEvent[] = [];
    const second: BusEvent[] = [];
    await bus.subscribe((event) => first.push(event));
    await bus.subscribe((event) => second.push(event));
    const events = [change("alice", 1), change("bob", 1), change("alice", 2)];
    await bus.publish(events.slice(0, 2));
    await bus.publish(events.slice(2));
    expect(first).toEqual(events);
    expect(second).toEqual(events);
  });

  it("does not run subscribers inside the publisher's call", async () => {
    const bus = new InProcessBus();
    const seen: BusEvent[] = [];
    await bus.subscribe((event) => seen.push(event));
    const publishing = bus.publish([change("alice", 1)]);
    expect(seen).toEqual([]);
    await publishing;
    expect(seen).toHaveLength(1);
  });

  it("keeps delivering to the others when one subscriber throws, and reports it", async () => {
    const errors: unknown[] = [];
    const bus = new InProcessBus({ onHandlerError: (error) => errors.push(error) });
    const seen: BusEvent[] = [];
    await bus.subscribe(() => {
      throw new Error("subscriber bug");
    });
    await bus.subscribe((event) => seen.push(event));
    await bus.publish([change("alice", 1)]);
    expect(seen).toHaveLength(1);
    expect(errors).toHaveLength(1);
  });

  it("refuses to publish once closed", async () => {
    const bus = new InProcessBus();
    await bus.close();
    await expect(bus.publish([change("alice", 1)])).rejects.toThrow(/closed/);
  });
});
