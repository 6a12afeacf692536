import { appendFile, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ApiClient } from "@wsync/shared-protocol";
import { createSyncEngine, type SyncEngine } from "../engine/index.ts";
import type { Workbench } from "./workbench.ts";

/** Polls `read` until `accept` holds; returns the last value. No fixed sleeps in the tests. */
export async function eventually<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await read();
      if (accept(last)) return last;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)} ${lastError ?? ""}`);
}

export const readText = (path: string) => readFile(path, "utf8");
export const listFolder = (path: string) => readdir(path);

/** Signs VS Code in from the Command Palette, as a user does. */
export async function signInFromPalette(vscode: Workbench, email: string, password: string): Promise<void> {
  await vscode.runCommand("Workspace Sync: Sign In");
  await vscode.answerInput(email, /Email address/);
  await vscode.answerInput(password, /Password for/);
  await vscode.waitForNotification(/signed in as/);
}

/** The other device: the same engine the CLI runs (`wsync sync`), in this process, on its own folder. */
export async function startCliDevice(options: {
  apiUrl: string;
  notifierUrl: string;
  email: string;
  password: string;
  deviceName: string;
  register?: boolean;
  /** Appends the engine's log lines here (a test artifact). */
  logFile?: string;
}): Promise<{ engine: SyncEngine; folder: string; api: ApiClient; stop(): Promise<void> }> {
  const folder = await mkdtemp(join(tmpdir(), "wsync-e2e-cli-"));
  const stateDir = await mkdtemp(join(tmpdir(), "wsync-e2e-cli-state-"));
  const anonymous = new ApiClient({ baseUrl: options.apiUrl });
  const body = { email: options.email, password: options.password, deviceName: options.deviceName };
  const session = options.register ? await anonymous.register(body) : await anonymous.login(body);
  const engine = createSyncEngine({
    folder,
    stateDir,
    apiUrl: options.apiUrl,
    notifierUrl: options.notifierUrl,
    token: session.token,
    deviceId: session.deviceId,
    deviceName: options.deviceName,
    hashThreads: 0,
  });
  if (options.logFile) {
    const logFile = options.logFile;
    await mkdir(dirname(logFile), { recursive: true });
    const write = (line: string) => void appendFile(logFile, `${new Date().toISOString()} ${line}\n`);
    engine.on("log", ({ level, message, data }) =>
      write(`${level} ${message} ${data ? JSON.stringify(data) : ""}`),
    );
    engine.on("status", (status) => write(`status ${status.state} (notifications ${status.notifications})`));
    engine.on("synced", ({ paths }) => write(`synced ${paths.join(", ")}`));
    engine.on("conflict", (conflict) => write(`conflict ${JSON.stringify(conflict)}`));
  }
  return {
    engine,
    folder,
    api: anonymous.withToken(session.token),
    async stop() {
      await engine.stop();
      await rm(folder, { recursive: true, force: true });
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
