import type { AddressInfo } from "node:net";
import type { Sql } from "postgres";
import type { Authenticate } from "./auth.ts";
import type { EventBus } from "./bus/event-bus.ts";
import { createSocketServer } from "./fanout/socket-server.ts";
import { Subscribers } from "./fanout/subscribers.ts";
import { createHttpServer } from "./http/http-server.ts";
import { newestSequence, newestSyncToken } from "./journal.ts";
import { type Logger, redactingLogger } from "./logger.ts";
import { OutboxRelay } from "./relay/outbox-relay.ts";
import { postgresOutbox } from "./relay/postgres-outbox.ts";

/** What can be tuned; the defaults suit production, tests shorten the timers. */
export interface NotifierTuning {
  /** Run the outbox relay in this instance (default true; several relays are safe). */
  relay?: boolean;
  /** Outbox safety sweep, for notifications lost while the listening connection was down. */
  relaySweepIntervalMs?: number;
  relayRetryMinMs?: number;
  relayRetryMaxMs?: number;
  pingIntervalMs?: number;
  sendBufferLimitBytes?: number;
}

export interface NotifierParts extends NotifierTuning {
  sql: Sql;
  bus: EventBus;
  authenticate: Authenticate;
  logger: Logger;
  host?: string;
  port?: number;
}

export interface RunningNotifier {
  /** `http://host:port` as actually bound; the WebSocket is at `/ws`. */
  url: string;
  /** Stops taking connections, closes sockets (1001) and answers waiting polls, stops the relay. */
  close(): Promise<void>;
}

/** Wires the parts together. Closing does not end `sql` or `bus`: whoever made them owns them. */
export async function runNotifier(parts: NotifierParts): Promise<RunningNotifier> {
  const { sql, bus, authenticate } = parts;
  const logger = redactingLogger(parts.logger);
  const subscribers = new Subscribers();
  await bus.subscribe((event) => subscribers.dispatch(event));

  const relay =
    parts.relay === false
      ? undefined
      : new OutboxRelay({
          source: postgresOutbox(sql, logger),
          publish: (events) => bus.publish(events),
          logger,
          sweepIntervalMs: parts.relaySweepIntervalMs,
          retryMinMs: parts.relayRetryMinMs,
          retryMaxMs: parts.relayRetryMaxMs,
        });
  await relay?.start();

  const sockets = createSocketServer({
    subscribers,
    authenticate,
    newestSyncToken: (userId) => newestSyncToken(sql, userId),
    logger,
    pingIntervalMs: parts.pingIntervalMs,
    sendBufferLimitBytes: parts.sendBufferLimitBytes,
  });
  const { server, stopPolls } = createHttpServer({
    subscribers,
    sockets,
    authenticate,
    newestSequence: (userId) => newestSequence(sql, userId),
    checkHealth: async () => void (await sql`SELECT 1`),
    logger,
  });
  const host = parts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(parts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  logger.info("notifier listening", { url, relay: relay !== undefined });

  return {
    url,
    async close() {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      stopPolls();
      await sockets.close();
      server.closeIdleConnections();
      await relay?.close();
      await stopped;
    },
  };
}
