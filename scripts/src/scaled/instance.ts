import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** One process of the scaled stack (an edge API or a notifier instance) on a fixed port. */
export interface Instance {
  name: string;
  url: string;
  pid(): number | undefined;
  /** Starts (or starts again, on the same port) and waits until `readyPath` answers 200. */
  start(): Promise<void>;
  /** Sends `signal` and waits for the process to end (SIGKILL: a crash, nothing cleaned up). */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not ended after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface InstanceOptions {
  name: string;
  /** The entry point, relative to the repository root (run by Node through tsx). */
  script: string;
  port: number;
  env: NodeJS.ProcessEnv;
  readyPath: string;
  logFile: string;
  readyTimeoutMs?: number;
}

export function managedInstance(options: InstanceOptions): Instance {
  const url = `http://127.0.0.1:${options.port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const log = createWriteStream(options.logFile, { flags: "a" });

  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const waitReady = async () => {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (!alive()) throw new Error(`${options.name} exited before it was ready (log: ${options.logFile})`);
      const ok = await fetch(`${url}${options.readyPath}`, { signal: AbortSignal.timeout(2_000) }).then(
        (response) => response.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`${options.name} was not ready at ${url} after ${options.readyTimeoutMs ?? 60_000} ms`);
  };

  return {
    name: options.name,
    url,
    pid: () => (alive() ? child?.pid : undefined),
    async start() {
      if (alive()) return;
      const process_ = spawn(process.execPath, ["--import", "tsx", options.script], {
        cwd: REPO_ROOT,
        env: options.env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = process_;
      process_.stdout?.pipe(log, { end: false });
      process_.stderr?.pipe(log, { end: false });
      exited = new Promise((resolve) => process_.once("exit", () => resolve()));
      await waitReady();
    },
    async kill(signal) {
      if (!alive()) return;
      child?.kill(signal);
      await exited;
    },
    async stop(graceMs = 10_000) {
      if (!alive()) return;
      child?.kill("SIGTERM");
      const timer = setTimeout(() => child?.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
