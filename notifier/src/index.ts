export type { Authenticate, DeviceIdentity } from "./auth.ts";
export type { BusHandler, EventBus } from "./bus/event-bus.ts";
export { InProcessBus } from "./bus/in-process-bus.ts";
export { DEFAULT_TOPIC, KafkaBus, type KafkaBusOptions } from "./bus/kafka-bus.ts";
export { consoleLogger, type Logger, silentLogger } from "./logger.ts";
export { type NotifierParts, type NotifierTuning, type RunningNotifier, runNotifier } from "./notifier.ts";
export { type BusConfig, type NotifierOptions, startNotifier } from "./start-notifier.ts";
