import { NotifierMessage } from "@wsync/shared-protocol";
import { WebSocket } from "ws";

/** A device's notifier socket in black-box tests: every frame parsed against the contract. */
export class WsDevice {
  readonly messages: NotifierMessage[] = [];
  readonly closed: Promise<{ code: number }>;
  #wakers: (() => void)[] = [];

  constructor(notifierUrl: string, token: string, via: "header" | "query" = "header") {
    const url = new URL("/ws", notifierUrl.replace(/^http/, "ws"));
    if (via === "query") url.searchParams.set("token", token);
    this.socket = new WebSocket(
      url,
      via === "header" ? { headers: { authorization: `Bearer ${token}` } } : {},
    );
    this.socket.on("message", (data) => {
      this.messages.push(NotifierMessage.parse(JSON.parse(data.toString())));
      for (const wake of this.#wakers.splice(0)) wake();
    });
    this.socket.on("error", () => {});
    this.closed = new Promise((resolve) => {
      this.socket.on("close", (code) => {
        resolve({ code });
        for (const wake of this.#wakers.splice(0)) wake();
      });
    });
  }

  readonly socket: WebSocket;

  /** Waits until a message satisfies `match` (or the socket closes, or `giveUpMs` passes). */
  async waitFor(match: (message: NotifierMessage) => boolean, giveUpMs = 20_000): Promise<NotifierMessage> {
    const deadline = Date.now() + giveUpMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (this.socket.readyState === WebSocket.CLOSED) throw new Error("the socket closed first");
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no matching message in ${giveUpMs} ms (got ${JSON.stringify(this.messages)})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wakers.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): Promise<unknown> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.terminate();
    return this.closed;
  }
}
