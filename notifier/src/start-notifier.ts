import { authenticateDevice } from "@wsync/edge-api/device-auth";
import postgres from "postgres";
import type { EventBus } from "./bus/event-bus.ts";
import { InProcessBus } from "./bus/in-process-bus.ts";
import { KafkaBus } from "./bus/kafka-bus.ts";
import { consoleLogger, type Logger, redactingLogger } from "./logger.ts";
import { type NotifierTuning, type RunningNotifier, runNotifier } from "./notifier.ts";

export type BusConfig =
  /** Embedded mode (`npm start`): relay and fan-out in this one process. */
  { kind: "in-process" } | { kind: "kafka"; brokers: string[]; topic?: string; groupId?: string };

export interface NotifierOptions extends NotifierTuning {
  /** The edge API's database: outbox, users.journal_seq, devices. */
  databaseUrl: string;
  bus: BusConfig;
  host?: string;
  /** 0 (the default) takes any free port; `url` of the result names the real one. */
  port?: number;
  logger?: Logger;
}

/** Starts a notifier: the outbox relay, the bus consumer, WebSockets at `/ws`, `/poll` and `/healthz`. */
export async function startNotifier(options: NotifierOptions): Promise<RunningNotifier> {
  const logger = redactingLogger(options.logger ?? consoleLogger);
  // The listening connection of LISTEN/NOTIFY comes on top of these.
  const sql = postgres(options.databaseUrl, { max: 10, onnotice: () => {} });
  let bus: EventBus | undefined;
  try {
    bus = await createBus(options.bus, logger);
    const running = await runNotifier({
      ...options,
      sql,
      bus,
      logger,
      authenticate: (token) => authenticateDevice(sql, token),
    });
    const ownedBus = bus;
    return {
      url: running.url,
      async close() {
        await running.close();
        await ownedBus.close();
        await sql.end({ timeout: 5 });
      },
    };
  } catch (error) {
    await bus?.close().catch(() => {});
    await sql.end({ timeout: 5 }).catch(() => {});
    throw error;
  }
}

async function createBus(config: BusConfig, logger: Logger): Promise<EventBus> {
  if (config.kind === "in-process") {
    return new InProcessBus({ onHandlerError: (error) => logger.error("bus subscriber failed", { error }) });
  }
  const bus = new KafkaBus({ brokers: config.brokers, topic: config.topic, groupId: config.groupId, logger });
  try {
    await bus.connect();
  } catch (error) {
    await bus.close().catch(() => {});
    throw error;
  }
  return bus;
}
