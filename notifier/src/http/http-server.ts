import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  ApiError,
  decodeSyncToken,
  PollQuery,
  type PollResponse,
  type ValidationIssue,
} from "@wsync/shared-protocol";
import { type Authenticate, bearerToken, requestUrl } from "../auth.ts";
import type { SocketServer } from "../fanout/socket-server.ts";
import type { Subscribers } from "../fanout/subscribers.ts";
import type { Logger } from "../logger.ts";
import { waitForChange } from "../poll/wait-for-change.ts";

export interface HttpServerOptions {
  subscribers: Subscribers;
  sockets: SocketServer;
  authenticate: Authenticate;
  newestSequence: (userId: string) => Promise<bigint>;
  /** Resolves when the notifier can serve (its database answers). */
  checkHealth: () => Promise<void>;
  logger: Logger;
}

/**
 * The notifier's HTTP surface: `GET /ws` (upgrade), `GET /poll`, `GET /healthz`. Every error leaves
 * as the contract's envelope, mapped here and nowhere else.
 */
export function createHttpServer(options: HttpServerOptions): { server: Server; stopPolls(): void } {
  const { subscribers, sockets, authenticate, newestSequence, checkHealth, logger } = options;
  // Aborted on shutdown: waiting polls answer "unchanged" at once and the client polls elsewhere.
  const shutdown = new AbortController();

  async function poll(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const token = bearerToken(request);
    const identity = token ? await authenticate(token) : null;
    if (!identity) throw new ApiError("unauthorized", "a valid device token is required");
    const url = requestUrl(request);
    const query = PollQuery.safeParse(Object.fromEntries(url.searchParams));
    if (!query.success) {
      const issues: ValidationIssue[] = query.error.issues.map((issue) => ({
        path: issue.path.map((key) => (typeof key === "number" ? key : String(key))),
        message: issue.message,
      }));
      throw new ApiError("validation_failed", "bad poll query", { issues });
    }
    const since = decodeSyncToken(query.data.since);
    if (since === null) {
      throw new ApiError("validation_failed", "since is not a sync token issued by this server", {
        issues: [{ path: ["since"], message: "unknown sync token" }],
      });
    }

    const gone = new AbortController();
    response.on("close", () => gone.abort());
    const outcome = await waitForChange({
      subscribers,
      userId: identity.userId,
      deviceId: identity.deviceId,
      since,
      timeoutMs: query.data.timeout * 1000,
      newestSequence,
      signal: AbortSignal.any([gone.signal, shutdown.signal]),
    });
    if (outcome.kind === "revoked") throw new ApiError("unauthorized", "this device was revoked");
    const body: PollResponse =
      outcome.kind === "changed"
        ? { changed: true, syncToken: outcome.syncToken }
        : { changed: false, syncToken: query.data.since };
    sendJson(response, 200, body);
  }

  async function healthz(response: ServerResponse): Promise<void> {
    try {
      await checkHealth();
      sendJson(response, 200, {
        status: "ok",
        connections: sockets.connectionCount,
        subscribers: subscribers.count,
      });
    } catch (error) {
      logger.warn("health check failed", { error });
      sendJson(response, 503, { status: "unavailable" });
    }
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { pathname } = requestUrl(request);
    if (pathname === "/poll" || pathname === "/healthz" || pathname === "/ws") {
      if (request.method !== "GET") throw new ApiError("not_found", `no ${request.method} ${pathname}`);
      if (pathname === "/poll") return poll(request, response);
      if (pathname === "/healthz") return healthz(response);
      throw new ApiError("validation_failed", "GET /ws needs a WebSocket upgrade", {
        issues: [{ path: ["headers", "upgrade"], message: "expected websocket" }],
      });
    }
    throw new ApiError("not_found", `no ${pathname}`);
  }

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      if (error instanceof ApiError) return sendJson(response, error.status, error.toEnvelope());
      logger.error("request failed", { error, path: request.url?.split("?")[0] });
      sendJson(response, 500, new ApiError("internal", "internal error").toEnvelope());
    });
  });
  server.on("upgrade", (request: IncomingMessage, socket, head: Buffer) => {
    if (requestUrl(request).pathname !== "/ws") {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    sockets.handleUpgrade(request, socket, head);
  });
  return { server, stopPolls: () => shutdown.abort() };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent || response.destroyed) return;
  const data = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(data),
    "cache-control": "no-store",
  });
  response.end(data);
}
