import { NotifierMessage } from "@wsync/shared-protocol";
import { type ClientOptions, WebSocket } from "ws";

/** A device's WebSocket in tests: every frame parsed against the contract, and how it closed. */
export class TestClient {
  readonly messages: NotifierMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      this.messages.push(NotifierMessage.parse(JSON.parse(data.toString())));
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on("close", (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const wake of this.#waiters.splice(0)) wake();
      });
    });
    socket.on("error", () => {});
  }

  /** Opens `/ws` with the token in the Authorization header, or in the query when `via` says so. */
  static connect(
    baseUrl: string,
    token: string | null,
    options: { via?: "header" | "query"; ws?: ClientOptions } = {},
  ): TestClient {
    const url = new URL("/ws", baseUrl.replace(/^http/, "ws"));
    const headers: Record<string, string> = {};
    if (token !== null && options.via === "query") url.searchParams.set("token", token);
    else if (token !== null) headers.authorization = `Bearer ${token}`;
    return new TestClient(new WebSocket(url, { headers, ...options.ws }));
  }

  /** Resolves with the messages once `count` have arrived (rejects if the socket closes first). */
  async received(count: number): Promise<NotifierMessage[]> {
    while (this.messages.length < count) {
      if (this.socket.readyState === WebSocket.CLOSED) {
        throw new Error(`socket closed after ${this.messages.length} of ${count} messages`);
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return this.messages.slice(0, count);
  }

  close(): Promise<unknown> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.terminate();
    return this.closed;
  }
}

export async function until(
  condition: () => boolean | Promise<boolean>,
  what = "condition",
  giveUpAfterMs = 25_000,
): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    // Only a guard against hanging forever, with a message that says what never happened.
    if (Date.now() - started > giveUpAfterMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
