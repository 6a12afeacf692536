import { type BusEvent, type ChangedMessage, encodeSyncToken } from "@wsync/shared-protocol";
import { describe, expect, it } from "vitest";
import { type Subscriber, Subscribers } from "./subscribers.ts";

class Recorder implements Subscriber {
  readonly received: ChangedMessage[] = [];
  revokedCalls = 0;
  constructor(
    readonly userId: string,
    readonly deviceId: string,
  ) {}
  changed(message: ChangedMessage) {
    this.received.push(message);
  }
  revoked() {
    this.revokedCalls += 1;
  }
}

const change = (userId: string, sequence: number, deviceId = "device-x"): BusEvent => ({
  type: "file_changed",
  userId,
  fileId: "7f1c1d64-2f7e-4c43-9a55-0e1f6f3b2c11",
  version: sequence,
  action: "modified",
  deviceId,
  syncToken: encodeSyncToken(sequence),
});

describe("subscribers", () => {
  it("sends each change to every subscriber of its user and to nobody else", () => {
    const subscribers = new Subscribers();
    const laptop = new Recorder("alice", "laptop");
    const desktop = new Recorder("alice", "desktop");
    const bob = new Recorder("bob", "phone");
    for (const s of [laptop, desktop, bob]) subscribers.add(s);

    subscribers.dispatch(change("alice", 1, "laptop"));

    const expected: ChangedMessage = {
      type: "changed",
      fileId: "7f1c1d64-2f7e-4c43-9a55-0e1f6f3b2c11",
      version: 1,
      action: "modified",
      deviceId: "laptop",
      syncToken: encodeSyncToken(1),
    };
    expect(laptop.received).toEqual([expected]);
    expect(desktop.received).toEqual([expected]);
    expect(bob.received).toEqual([]);
  });

  it("ends only the revoked device's subscribers and forgets them", () => {
    const subscribers = new Subscribers();
    const laptop = new Recorder("alice", "laptop");
    const laptopPoll = new Recorder("alice", "laptop");
    const desktop = new Recorder("alice", "desktop");
    for (const s of [laptop, laptopPoll, desktop]) subscribers.add(s);

    subscribers.dispatch({ type: "device_revoked", userId: "alice", deviceId: "laptop" });
    subscribers.dispatch(change("alice", 2));

    expect([laptop.revokedCalls, laptopPoll.revokedCalls, desktop.revokedCalls]).toEqual([1, 1, 0]);
    expect(laptop.received).toEqual([]);
    expect(desktop.received).toHaveLength(1);
    expect(subscribers.count).toBe(1);
  });

  it("refuses a device whose revocation arrived a moment ago, for as long as it is remembered", () => {
    let now = 1_000;
    const subscribers = new Subscribers({ revocationMemoryMs: 60_000, now: () => now });
    subscribers.dispatch({ type: "device_revoked", userId: "alice", deviceId: "laptop" });

    expect(subscribers.add(new Recorder("alice", "laptop"))).toBe(false);
    expect(subscribers.add(new Recorder("alice", "desktop"))).toBe(true);
    now += 60_001;
    expect(subscribers.add(new Recorder("alice", "laptop"))).toBe(true);
    expect(subscribers.count).toBe(2);
  });

  it("reaches every subscriber even when one leaves during the dispatch", () => {
    const subscribers = new Subscribers();
    const received: string[] = [];
    const leaver: Subscriber = {
      userId: "alice",
      deviceId: "a",
      changed: () => {
        received.push("a");
        subscribers.remove(leaver);
      },
      revoked: () => {},
    };
    const stayer = new Recorder("alice", "b");
    subscribers.add(leaver);
    subscribers.add(stayer);

    subscribers.dispatch(change("alice", 1));
    subscribers.dispatch(change("alice", 2));

    expect(received).toEqual(["a"]);
    expect(stayer.received).toHaveLength(2);
    expect(subscribers.count).toBe(1);
  });
});
