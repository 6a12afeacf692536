import { redact, redactText } from "@wsync/shared-protocol";

/** What the notifier reports. Structured fields so a log shipper can index them. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function line(level: string, message: string, fields?: Record<string, unknown>): string {
  const extra = fields ? Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, describe(v)])) : {};
  return JSON.stringify({ time: new Date().toISOString(), level, service: "notifier", message, ...extra });
}

function describe(value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}

/** JSON lines on stderr (stdout stays free for whoever runs us). */
export const consoleLogger: Logger = {
  info: (message, fields) => console.error(line("info", message, fields)),
  warn: (message, fields) => console.error(line("warn", message, fields)),
  error: (message, fields) => console.error(line("error", message, fields)),
};

/**
 * Every line any logger of the notifier writes goes through this: tokens, passwords and Authorization
 * values are scrubbed from the message and every field (errors included), whoever logs what.
 */
export function redactingLogger(inner: Logger): Logger {
  const scrub = (fields?: Record<string, unknown>) =>
    fields === undefined ? undefined : (redact(fields) as Record<string, unknown>);
  return {
    info: (message, fields) => inner.info(redactText(message), scrub(fields)),
    warn: (message, fields) => inner.warn(redactText(message), scrub(fields)),
    error: (message, fields) => inner.error(redactText(message), scrub(fields)),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
