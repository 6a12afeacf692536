import type { BusEvent } from "@wsync/shared-protocol";
import type { BusHandler, EventBus } from "./event-bus.ts";

/**
 * The bus of the embedded mode (`npm start`): relay and fan-out share one process, so "durably
 * accepted" means handed to every subscriber. Delivery is deferred to a later task so a publisher
 * never runs subscriber code inside its own (database) transaction, and order is kept.
 */
export class InProcessBus implements EventBus {
  readonly #handlers = new Set<BusHandler>();
  readonly #onHandlerError: (error: unknown) => void;
  #closed = false;

  /** A throwing subscriber is its own bug: it must not make the publisher think the bus failed. */
  constructor(options: { onHandlerError?: (error: unknown) => void } = {}) {
    this.#onHandlerError =
      options.onHandlerError ?? ((error) => console.error("in-process bus subscriber failed", error));
  }

  async publish(events: readonly BusEvent[]): Promise<void> {
    if (this.#closed) throw new Error("the in-process bus is closed");
    const batch = [...events];
    const handlers = [...this.#handlers];
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (const event of batch) {
      for (const handler of handlers) {
        try {
          handler(event);
        } catch (error) {
          this.#onHandlerError(error);
        }
      }
    }
  }

  async subscribe(handler: BusHandler): Promise<void> {
    if (this.#closed) throw new Error("the in-process bus is closed");
    this.#handlers.add(handler);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#handlers.clear();
  }
}
