import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WS_CLOSE_UNAUTHORIZED } from "@wsync/shared-protocol";
import { type WebSocket, WebSocketServer } from "ws";
import { type Authenticate, socketToken } from "../auth.ts";
import type { Logger } from "../logger.ts";
import { SocketSubscriber } from "./socket-subscriber.ts";
import type { Subscribers } from "./subscribers.ts";

export interface SocketServerOptions {
  subscribers: Subscribers;
  authenticate: Authenticate;
  newestSyncToken: (userId: string) => Promise<string>;
  logger: Logger;
  /** A socket that has not answered the previous ping by the next one is reaped. */
  pingIntervalMs?: number;
  /** Bytes a client may leave unread before it is dropped. */
  sendBufferLimitBytes?: number;
}

export interface SocketServer {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  readonly connectionCount: number;
  /** Closes every socket with 1001 (going away): clients reconnect, with backoff, to another instance. */
  close(): Promise<void>;
}

const WS_CLOSE_INTERNAL = 1011;
const WS_CLOSE_GOING_AWAY = 1001;

export function createSocketServer(options: SocketServerOptions): SocketServer {
  const { subscribers, authenticate, newestSyncToken, logger } = options;
  const pingIntervalMs = options.pingIntervalMs ?? 30_000;
  const sendBufferLimitBytes = options.sendBufferLimitBytes ?? 256 * 1024;
  // Clients send nothing but pongs (control frames); a data frame over this is a protocol error.
  const server = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
  const alive = new WeakMap<WebSocket, boolean>();
  let closing = false;

  const onDropped = (subscriber: SocketSubscriber) => {
    subscribers.remove(subscriber);
    logger.warn("dropped a client that stopped reading", {
      userId: subscriber.userId,
      deviceId: subscriber.deviceId,
    });
  };

  async function accept(socket: WebSocket, request: IncomingMessage): Promise<void> {
    alive.set(socket, true);
    socket.on("pong", () => alive.set(socket, true));
    socket.on("error", (error) => logger.warn("websocket error", { error }));
    const token = socketToken(request);
    let identity: Awaited<ReturnType<Authenticate>> = null;
    try {
      identity = token ? await authenticate(token) : null;
    } catch (error) {
      logger.error("could not check a device token", { error });
      socket.close(WS_CLOSE_INTERNAL, "internal");
      return;
    }
    if (!identity) {
      socket.close(WS_CLOSE_UNAUTHORIZED, "unauthorized");
      return;
    }
    if (socket.readyState !== socket.OPEN) return;
    const subscriber = new SocketSubscriber(
      socket,
      identity.userId,
      identity.deviceId,
      sendBufferLimitBytes,
      onDropped,
    );
    // Registered before the newest token is read, so no change falls between the hello and the stream.
    if (!subscribers.add(subscriber)) {
      socket.close(WS_CLOSE_UNAUTHORIZED, "device revoked");
      return;
    }
    socket.on("close", () => subscribers.remove(subscriber));
    try {
      subscriber.hello(await newestSyncToken(identity.userId));
    } catch (error) {
      logger.error("could not read the newest sync token", { error, userId: identity.userId });
      socket.close(WS_CLOSE_INTERNAL, "internal");
    }
  }

  const keepalive = setInterval(() => {
    for (const socket of server.clients) {
      if (alive.get(socket) === false) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, pingIntervalMs);
  keepalive.unref();

  return {
    handleUpgrade(request, socket, head) {
      if (closing) {
        socket.destroy();
        return;
      }
      server.handleUpgrade(request, socket, head, (webSocket) => {
        accept(webSocket, request).catch((error) => logger.error("websocket accept failed", { error }));
      });
    },
    get connectionCount() {
      return server.clients.size;
    },
    async close() {
      closing = true;
      clearInterval(keepalive);
      for (const socket of server.clients) socket.close(WS_CLOSE_GOING_AWAY, "notifier shutting down");
      // A client that does not answer the close handshake quickly is cut off.
      const deadline = setTimeout(() => {
        for (const socket of server.clients) socket.terminate();
      }, 2_000);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await waitUntilEmpty(server);
      clearTimeout(deadline);
    },
  };
}

function waitUntilEmpty(server: WebSocketServer): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (server.clients.size === 0 ? resolve() : setTimeout(check, 20));
    check();
  });
}
