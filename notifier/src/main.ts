/**
 * The notifier as a process of its own (`npm start -w notifier`), configured from the environment:
 *   DATABASE_URL   the edge API's database (required)
 *   KAFKA_BROKERS  comma-separated host:port list; without it the bus is in-process (one instance only)
 *   KAFKA_TOPIC, KAFKA_GROUP_ID   optional
 *   NOTIFIER_HOST (default 127.0.0.1), NOTIFIER_PORT (default 8788)
 */
import { consoleLogger } from "./logger.ts";
import { type BusConfig, startNotifier } from "./start-notifier.ts";

const env = process.env;
const databaseUrl = env.DATABASE_URL;
if (!databaseUrl) {
  consoleLogger.error("DATABASE_URL is not set");
  process.exit(2);
}
const port = Number(env.NOTIFIER_PORT ?? 8788);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  consoleLogger.error("NOTIFIER_PORT is not a port number", { value: env.NOTIFIER_PORT });
  process.exit(2);
}
const brokers = (env.KAFKA_BROKERS ?? "")
  .split(",")
  .map((broker) => broker.trim())
  .filter(Boolean);
const bus: BusConfig =
  brokers.length > 0
    ? {
        kind: "kafka",
        brokers,
        topic: env.KAFKA_TOPIC || undefined,
        groupId: env.KAFKA_GROUP_ID || undefined,
      }
    : { kind: "in-process" };

const notifier = await startNotifier({ databaseUrl, bus, host: env.NOTIFIER_HOST ?? "127.0.0.1", port });
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    consoleLogger.info("notifier stopping", { signal });
    notifier.close().then(
      () => process.exit(0),
      (error: unknown) => {
        consoleLogger.error("notifier did not stop cleanly", { error });
        process.exit(1);
      },
    );
  });
}
