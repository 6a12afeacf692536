import {
  type ChangedMessage,
  decodeSyncToken,
  type NotifierMessage,
  WS_CLOSE_UNAUTHORIZED,
} from "@wsync/shared-protocol";
import { WebSocket } from "ws";
import type { Subscriber } from "./subscribers.ts";

/** Changes held while the hello is being prepared. Any one `changed` makes a client fetch all it lacks. */
const PENDING_MAX = 32;

/**
 * One open WebSocket of a device. Its send buffer is bounded: a client that stops reading is dropped
 * rather than allowed to grow the process's memory or hold up anyone else; on reconnect its `hello`
 * tells it where the journal stands and it catches up through the changes endpoint.
 */
export class SocketSubscriber implements Subscriber {
  /** Cleared at each keepalive ping, set again by the pong. */
  alive = true;
  #pending: ChangedMessage[] | undefined = [];

  constructor(
    readonly socket: WebSocket,
    readonly userId: string,
    readonly deviceId: string,
    private readonly sendBufferLimitBytes: number,
    private readonly onDropped: (subscriber: SocketSubscriber) => void,
  ) {}

  /** Sends `hello`, then whatever changed meanwhile that the hello's token does not already cover. */
  hello(syncToken: string): void {
    const pending = this.#pending ?? [];
    this.#pending = undefined;
    this.#send({ type: "hello", syncToken });
    const helloSequence = decodeSyncToken(syncToken) ?? -1n;
    for (const message of pending) {
      if ((decodeSyncToken(message.syncToken) ?? -1n) > helloSequence) this.#send(message);
    }
  }

  changed(message: ChangedMessage): void {
    if (this.#pending) {
      this.#pending.push(message);
      if (this.#pending.length > PENDING_MAX) this.#pending.shift();
      return;
    }
    this.#send(message);
  }

  revoked(): void {
    this.socket.close(WS_CLOSE_UNAUTHORIZED, "device revoked");
  }

  #send(message: NotifierMessage): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    const data = JSON.stringify(message);
    // bufferedAmount counts what ws and the TCP socket still hold for this client in our memory.
    if (this.socket.bufferedAmount + Buffer.byteLength(data) > this.sendBufferLimitBytes) {
      this.socket.terminate();
      this.onDropped(this);
      return;
    }
    this.socket.send(data);
  }
}
