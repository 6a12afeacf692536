import { type ChangedMessage, decodeSyncToken, encodeSyncToken } from "@wsync/shared-protocol";
import type { Subscriber, Subscribers } from "../fanout/subscribers.ts";

export type PollOutcome =
  | { kind: "changed"; syncToken: string }
  | { kind: "unchanged" }
  /** The device was revoked while waiting: the poll answers 401. */
  | { kind: "revoked" };

export interface WaitForChangeOptions {
  subscribers: Subscribers;
  userId: string;
  deviceId: string;
  /** The journal sequence the client has seen. */
  since: bigint;
  timeoutMs: number;
  /** The user's newest journal sequence, from the database. */
  newestSequence: (userId: string) => Promise<bigint>;
  /** Aborted when the client goes away or the notifier stops. */
  signal?: AbortSignal;
}

/**
 * The long poll: settles as soon as the user has a change after `since`, or when the timeout runs out.
 * The waiter is registered before the journal is read, so a change committed between the read and the
 * wait is still seen (by the read or by the bus).
 */
export function waitForChange(options: WaitForChangeOptions): Promise<PollOutcome> {
  const { subscribers, userId, deviceId, since, timeoutMs, newestSequence, signal } = options;
  return new Promise<PollOutcome>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: PollOutcome) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      subscribers.remove(waiter);
      resolve(outcome);
    };
    const onAbort = () => finish({ kind: "unchanged" });
    const waiter: Subscriber = {
      userId,
      deviceId,
      changed(message: ChangedMessage) {
        if ((decodeSyncToken(message.syncToken) ?? -1n) > since)
          finish({ kind: "changed", syncToken: message.syncToken });
      },
      revoked: () => finish({ kind: "revoked" }),
    };
    if (!subscribers.add(waiter)) {
      resolve({ kind: "revoked" });
      return;
    }
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort);
    timer = setTimeout(() => finish({ kind: "unchanged" }), timeoutMs);
    newestSequence(userId).then(
      (newest) => {
        if (newest > since) finish({ kind: "changed", syncToken: encodeSyncToken(newest) });
      },
      (error: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        subscribers.remove(waiter);
        reject(error);
      },
    );
  });
}
