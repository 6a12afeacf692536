import { type ApiClient, NotifierMessage, WS_CLOSE_UNAUTHORIZED } from "@wsync/shared-protocol";
import WebSocket from "ws";

export interface NotifierClientOptions {
  /** `ws://host:port/ws`. */
  webSocketUrl: string;
  token: string;
  /** For the long-poll fallback (needs the client's notifierUrl). */
  api: ApiClient;
  /** The newest sync token this device holds, for the long poll. */
  syncToken: () => string | null;
  /** The server has news (or we reconnected and may have missed some): catch up. */
  onChange: (reason: "hello" | "changed" | "poll") => void | Promise<void>;
  onUnauthorized: () => void;
  onConnection?: (state: "connected" | "disconnected" | "polling") => void;
  /** Failed WebSocket attempts in a row before the long poll starts. */
  pollAfterFailures?: number;
  maxBackoffMs?: number;
  /**
   * A socket that has not answered the previous ping by the next one is dropped and reconnected: on a
   * dropped link nothing arrives, not even a close, and the socket would look open forever.
   */
  pingIntervalMs?: number;
}

/**
 * Keeps a WebSocket to the notifier, reconnecting with exponential backoff and full jitter. While the
 * socket keeps failing it long-polls instead, and stops polling once the socket is back. Every
 * (re)connection ends in a catch-up through the changes feed, so nothing sent while away is missed.
 */
export class NotifierClient {
  private socket: WebSocket | undefined;
  private failures = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private pollAbort: AbortController | undefined;
  private pinger: NodeJS.Timeout | undefined;

  constructor(private readonly options: NotifierClientOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    this.pollAbort?.abort();
    this.socket?.removeAllListeners();
    this.socket?.on("error", () => {});
    this.socket?.terminate();
    this.socket = undefined;
  }

  private connect(): void {
    if (this.stopped) return;
    const socket = new WebSocket(this.options.webSocketUrl, {
      headers: { authorization: `Bearer ${this.options.token}` },
      handshakeTimeout: 10_000,
    });
    this.socket = socket;
    let opened = false;
    let answered = true;
    socket.on("pong", () => {
      answered = true;
    });
    socket.on("open", () => {
      opened = true;
      clearInterval(this.pinger);
      this.pinger = setInterval(() => {
        if (!answered) {
          socket.terminate();
          return;
        }
        answered = false;
        socket.ping();
      }, this.options.pingIntervalMs ?? 30_000);
      this.pinger.unref?.();
      this.failures = 0;
      this.polling = false;
      this.pollAbort?.abort();
      this.options.onConnection?.("connected");
    });
    socket.on("message", (data) => {
      answered = true;
      let parsed: NotifierMessage;
      try {
        parsed = NotifierMessage.parse(JSON.parse(data.toString()));
      } catch {
        return; // not ours to understand: ignore rather than drop the connection
      }
      void this.options.onChange(parsed.type);
    });
    socket.on("error", () => {});
    socket.on("unexpected-response", (_request, response) => {
      if (response.statusCode === 401) {
        this.stopped = true;
        this.options.onUnauthorized();
      }
      socket.terminate();
    });
    socket.on("close", (code) => {
      if (this.socket === socket) clearInterval(this.pinger);
      if (this.socket === socket) this.socket = undefined;
      if (code === WS_CLOSE_UNAUTHORIZED) {
        this.stopped = true;
        this.options.onUnauthorized();
        return;
      }
      if (this.stopped) return;
      if (opened) this.options.onConnection?.("disconnected");
      this.failures++;
      if (this.failures >= (this.options.pollAfterFailures ?? 3)) this.startPolling();
      const cap = Math.min(this.options.maxBackoffMs ?? 30_000, 500 * 2 ** Math.min(this.failures, 10));
      this.timer = setTimeout(() => this.connect(), Math.random() * cap);
    });
  }

  private startPolling(): void {
    if (this.polling || !this.options.api.notifierUrl) return;
    this.polling = true;
    this.options.onConnection?.("polling");
    void this.pollLoop();
  }

  private async pollLoop(): Promise<void> {
    let failures = 0;
    while (this.polling && !this.stopped) {
      const since = this.options.syncToken();
      if (!since) {
        await this.options.onChange("poll");
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      this.pollAbort = new AbortController();
      try {
        const answer = await this.options.api.poll(since, 30, { signal: this.pollAbort.signal });
        failures = 0;
        // Wait for the catch-up, so the next poll asks from the new token.
        if (answer.changed) await this.options.onChange("poll");
      } catch {
        if (!this.polling || this.stopped) return;
        failures++;
        await new Promise((resolve) =>
          setTimeout(resolve, Math.random() * Math.min(30_000, 500 * 2 ** failures)),
        );
      }
    }
  }
}
