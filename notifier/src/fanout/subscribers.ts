import type { BusEvent, ChangedMessage, FileChangedEvent } from "@wsync/shared-protocol";

/** One listener for a user's changes: an open WebSocket, or a long poll waiting. */
export interface Subscriber {
  readonly userId: string;
  readonly deviceId: string;
  changed(message: ChangedMessage): void;
  /** The device was revoked: the subscriber must end at once. */
  revoked(): void;
}

export function toChangedMessage(event: FileChangedEvent): ChangedMessage {
  const { fileId, version, action, deviceId, syncToken } = event;
  return { type: "changed", fileId, version, action, deviceId, syncToken };
}

export interface SubscribersOptions {
  /**
   * How long a revocation is remembered. It closes the race where a device authenticates, its
   * revocation is relayed, and only then does its socket register: that socket is refused on arrival.
   */
  revocationMemoryMs?: number;
  now?: () => number;
}

/** Who listens for which user on this instance, and the dispatch of bus events to them. */
export class Subscribers {
  readonly #byUser = new Map<string, Set<Subscriber>>();
  /** deviceId -> when its revocation arrived; insertion order is arrival order. */
  readonly #recentlyRevoked = new Map<string, number>();
  readonly #revocationMemoryMs: number;
  readonly #now: () => number;
  #count = 0;

  constructor(options: SubscribersOptions = {}) {
    this.#revocationMemoryMs = options.revocationMemoryMs ?? 10 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  get count(): number {
    return this.#count;
  }

  /** False (and nothing registered) when the device was revoked a moment ago. */
  add(subscriber: Subscriber): boolean {
    this.#forgetOldRevocations();
    if (this.#recentlyRevoked.has(subscriber.deviceId)) return false;
    let set = this.#byUser.get(subscriber.userId);
    if (!set) {
      set = new Set();
      this.#byUser.set(subscriber.userId, set);
    }
    if (!set.has(subscriber)) {
      set.add(subscriber);
      this.#count += 1;
    }
    return true;
  }

  remove(subscriber: Subscriber): void {
    const set = this.#byUser.get(subscriber.userId);
    if (!set?.delete(subscriber)) return;
    this.#count -= 1;
    if (set.size === 0) this.#byUser.delete(subscriber.userId);
  }

  dispatch(event: BusEvent): void {
    const set = this.#byUser.get(event.userId);
    if (event.type === "device_revoked") {
      this.#forgetOldRevocations();
      this.#recentlyRevoked.delete(event.deviceId);
      this.#recentlyRevoked.set(event.deviceId, this.#now());
      for (const subscriber of [...(set ?? [])]) {
        if (subscriber.deviceId === event.deviceId) {
          this.remove(subscriber);
          subscriber.revoked();
        }
      }
      return;
    }
    if (!set) return;
    const message = toChangedMessage(event);
    // A copy: a subscriber may remove itself (a dropped slow socket, an answered poll) while we loop.
    for (const subscriber of [...set]) subscriber.changed(message);
  }

  #forgetOldRevocations(): void {
    const horizon = this.#now() - this.#revocationMemoryMs;
    for (const [deviceId, at] of this.#recentlyRevoked) {
      if (at > horizon) break;
      this.#recentlyRevoked.delete(deviceId);
    }
  }
}
