import { type BusEvent, encodeSyncToken } from "@wsync/shared-protocol";
import { describe, expect, it } from "vitest";
import { Subscribers } from "../fanout/subscribers.ts";
import { waitForChange } from "./wait-for-change.ts";

const change = (sequence: number): BusEvent => ({
  type: "file_changed",
  userId: "alice",
  fileId: "f",
  version: 1,
  action: "created",
  deviceId: null,
  syncToken: encodeSyncToken(sequence),
});

function poll(
  subscribers: Subscribers,
  options: { since: bigint; timeoutMs?: number; newest?: bigint; signal?: AbortSignal },
) {
  return waitForChange({
    subscribers,
    userId: "alice",
    deviceId: "laptop",
    since: options.since,
    timeoutMs: options.timeoutMs ?? 60_000,
    newestSequence: async () => options.newest ?? options.since,
    signal: options.signal,
  });
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe("waiting for a change (long poll)", () => {
  it("answers at once with the newest token when the journal is already past `since`", async () => {
    const subscribers = new Subscribers();
    await expect(poll(subscribers, { since: 3n, newest: 5n })).resolves.toEqual({
      kind: "changed",
      syncToken: encodeSyncToken(5),
    });
    expect(subscribers.count).toBe(0);
  });

  it("answers on the first change after `since`, ignoring older ones and other users'", async () => {
    const subscribers = new Subscribers();
    const waiting = poll(subscribers, { since: 5n });
    await settled();
    subscribers.dispatch(change(4));
    subscribers.dispatch(change(5));
    subscribers.dispatch({ ...change(9), userId: "bob" });
    subscribers.dispatch(change(6));
    await expect(waiting).resolves.toEqual({ kind: "changed", syncToken: encodeSyncToken(6) });
    expect(subscribers.count).toBe(0);
  });

  it("answers unchanged when the timeout runs out", async () => {
    const subscribers = new Subscribers();
    await expect(poll(subscribers, { since: 5n, timeoutMs: 10 })).resolves.toEqual({ kind: "unchanged" });
    expect(subscribers.count).toBe(0);
  });

  it("answers revoked when the device is revoked while waiting", async () => {
    const subscribers = new Subscribers();
    const waiting = poll(subscribers, { since: 5n });
    await settled();
    subscribers.dispatch({ type: "device_revoked", userId: "alice", deviceId: "laptop" });
    await expect(waiting).resolves.toEqual({ kind: "revoked" });
  });

  it("stops waiting, and stops listening, when the client goes away", async () => {
    const subscribers = new Subscribers();
    const gone = new AbortController();
    const waiting = poll(subscribers, { since: 5n, signal: gone.signal });
    await settled();
    expect(subscribers.count).toBe(1);
    gone.abort();
    await expect(waiting).resolves.toEqual({ kind: "unchanged" });
    expect(subscribers.count).toBe(0);
  });
});
