/**
 * The whole backend as separate processes that a test can kill -9 and restart in place: PostgreSQL,
 * Versity Gateway, Kafka (first started by scripts/stack/*.sh in a run folder of the test's own), the
 * edge API and the notifier (`node --import tsx ...`). Each restart keeps the service's port and data,
 * as a crashed server that comes back would. Only processes started here are ever signalled, by pid.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { openSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort } from "../free-port.ts";

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const STACK = join(REPO, "scripts/stack");
const CACHE =
  process.env.WSYNC_CACHE ??
  join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? "/root", ".cache"), "wsync");
const PG_BIN = `/usr/lib/postgresql/${process.env.WSYNC_PG_MAJOR ?? "15"}/bin`;

export type ServiceName = "postgres" | "s3" | "kafka" | "edge" | "notifier";
export const SERVICES: readonly ServiceName[] = ["postgres", "s3", "kafka", "edge", "notifier"];

export interface KillableStack {
  apiUrl: string;
  notifierUrl: string;
  databaseUrl: string;
  kill(name: ServiceName): Promise<void>;
  /** Starts a killed service again on its port and data; resolves once it answers. */
  restart(name: ServiceName): Promise<void>;
  close(): Promise<void>;
}

function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1]) env[match[1]] = (match[2] ?? "").replace(/^'(.*)'$/, "$1");
  }
  return env;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

const httpOk = (url: string) => async () => (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILL to pid and every process whose parent it is (PostgreSQL's backends), then waits them out. */
async function killTree(pid: number): Promise<void> {
  const children: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, "utf8").catch(() => "");
    if (new RegExp(`^PPid:\\s+${pid}$`, "m").test(status)) children.push(Number(entry));
  }
  for (const target of [pid, ...children]) {
    try {
      process.kill(target, "SIGKILL");
    } catch {}
  }
  await waitFor(`pid ${pid} to die`, async () => ![pid, ...children].some(alive), 30_000);
}

export interface KillableStackOptions {
  /** EDGE_CONFIG_JSON of the edge API (maintenance is always off, so it cannot run mid-test). */
  edgeConfig?: Record<string, unknown>;
}

export async function startKillableStack(options: KillableStackOptions = {}): Promise<KillableStack> {
  const runDir = await mkdtemp(join(tmpdir(), "wsync-faults-"));
  const children = new Map<ServiceName, ChildProcess>();
  const logOf = (name: string) => openSync(join(runDir, `${name}.log`), "a");

  // PostgreSQL and Kafka through the suite's scripts (root: runuser; Kafka storage format).
  await Promise.all([
    run("bash", [join(STACK, "postgres.sh"), "start", runDir]),
    run("bash", [join(STACK, "kafka.sh"), "start", runDir], { timeout: 180_000 }),
  ]);
  const pgEnv = parseEnv(await readFile(join(runDir, "postgres.env"), "utf8"));
  const kafkaEnv = parseEnv(await readFile(join(runDir, "kafka.env"), "utf8"));
  const databaseUrl = pgEnv.DATABASE_URL ?? "";
  const pgPort = Number(new URL(databaseUrl).port);
  const kafkaBrokers = kafkaEnv.KAFKA_BROKERS ?? "";
  const kafkaPort = Number(kafkaBrokers.split(":")[1]);
  const [s3Port, apiPort, notifierPort] = [await freePort(), await freePort(), await freePort()];
  const s3 = {
    S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
    S3_REGION: "us-east-1",
    S3_ACCESS_KEY_ID: `wsyncfaults${s3Port}`,
    S3_SECRET_ACCESS_KEY: crypto.randomUUID().replaceAll("-", ""),
  };
  await run("mkdir", ["-p", join(runDir, "s3-data")]);

  const spawnService = (name: ServiceName, command: string, args: string[], env: Record<string, string>) => {
    const child = spawn(command, args, {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ["ignore", logOf(name), logOf(name)],
    });
    children.set(name, child);
  };
  const pgPid = async () =>
    Number((await readFile(join(runDir, "postgres/data/postmaster.pid"), "utf8")).split("\n")[0]);

  const starters: Record<ServiceName, () => Promise<void>> = {
    async postgres() {
      const ctl = [
        join(PG_BIN, "pg_ctl"),
        "-D",
        join(runDir, "postgres/data"),
        "-l",
        join(runDir, "postgres/postgres.log"),
        "-w",
        "-t",
        "60",
      ];
      const options = `-p ${pgPort} -k ${join(runDir, "postgres")} -c listen_addresses=127.0.0.1 -c max_connections=300`;
      const argv = [...ctl, "-o", options, "start"];
      // A killed postmaster leaves postmaster.pid behind; pg_ctl starts anyway once its pid is gone.
      await waitFor("postgres restart", async () => {
        await (process.getuid?.() === 0
          ? run("runuser", ["-u", "postgres", "--", ...argv])
          : run(argv[0] ?? "", argv.slice(1)));
        return true;
      });
    },
    async s3() {
      spawnService(
        "s3",
        join(CACHE, "bin/versitygw"),
        [
          "--port",
          `127.0.0.1:${s3Port}`,
          "--region",
          "us-east-1",
          "--quiet",
          "posix",
          join(runDir, "s3-data"),
        ],
        { ROOT_ACCESS_KEY_ID: s3.S3_ACCESS_KEY_ID, ROOT_SECRET_ACCESS_KEY: s3.S3_SECRET_ACCESS_KEY },
      );
      await waitFor("s3", () => portOpen(s3Port));
    },
    async kafka() {
      spawnService(
        "kafka",
        "java",
        [
          "-Xmx384m",
          "-XX:+UseSerialGC",
          "-XX:TieredStopAtLevel=1",
          `-Dlog4j2.configurationFile=${join(STACK, "kafka/log4j2.properties")}`,
          "-cp",
          `${join(CACHE, "kafka-4.4.0/libs")}/*`,
          "kafka.Kafka",
          join(runDir, "kafka/server.properties"),
        ],
        {},
      );
      await waitFor("kafka", () => portOpen(kafkaPort), 120_000);
    },
    async edge() {
      spawnService("edge", process.execPath, ["--import", "tsx", "edge-api/src/node.ts"], {
        ...s3,
        DATABASE_URL: databaseUrl,
        PORT: String(apiPort),
        S3_BUCKET: "wsync-faults",
        EDGE_CACHE: "memory",
        EDGE_CONFIG_JSON: JSON.stringify({ ...options.edgeConfig, maintenanceIntervalSeconds: 0 }),
      });
      await waitFor("edge API", httpOk(`http://127.0.0.1:${apiPort}/healthz`));
    },
    async notifier() {
      // In Kafka mode the notifier exits when Kafka cannot be reached at start: start it until it stays.
      await waitFor(
        "notifier",
        async () => {
          const previous = children.get("notifier");
          if (!previous || previous.exitCode !== null || previous.signalCode !== null) {
            spawnService("notifier", process.execPath, ["--import", "tsx", "notifier/src/main.ts"], {
              DATABASE_URL: databaseUrl,
              KAFKA_BROKERS: kafkaBrokers,
              KAFKA_TOPIC: "wsync-faults",
              NOTIFIER_PORT: String(notifierPort),
            });
          }
          return httpOk(`http://127.0.0.1:${notifierPort}/healthz`)();
        },
        120_000,
      );
    },
  };

  const kill = async (name: ServiceName) => {
    if (name === "postgres") return killTree(await pgPid());
    if (name === "kafka" && !children.has("kafka")) {
      // The first Kafka was started by kafka.sh; its pid is in the run folder.
      const pid = Number(await readFile(join(runDir, "kafka/kafka.pid"), "utf8"));
      return killTree(pid);
    }
    const child = children.get(name);
    if (!child?.pid) throw new Error(`${name} is not running`);
    children.delete(name);
    await killTree(child.pid);
  };

  try {
    await starters.s3();
    await starters.edge();
    await starters.notifier();
  } catch (error) {
    await closeAll();
    throw error;
  }

  async function closeAll() {
    for (const [name, child] of [...children].reverse()) {
      children.delete(name);
      if (child.pid && alive(child.pid)) await killTree(child.pid).catch(() => {});
    }
    await run("bash", [join(STACK, "kafka.sh"), "stop", runDir]).catch(() => {});
    await run("bash", [join(STACK, "postgres.sh"), "stop", runDir]).catch(() => {});
    // WSYNC_KEEP_LOGS=1 keeps the run folder (every service's log) for a post-mortem.
    if (process.env.WSYNC_KEEP_LOGS === "1") console.info(`killable stack: logs kept in ${runDir}`);
    else await rm(runDir, { recursive: true, force: true }).catch(() => {});
  }

  return {
    apiUrl: `http://127.0.0.1:${apiPort}`,
    notifierUrl: `http://127.0.0.1:${notifierPort}`,
    databaseUrl,
    kill,
    restart: (name) => starters[name](),
    close: closeAll,
  };
}
