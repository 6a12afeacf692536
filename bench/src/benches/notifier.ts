import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { WebSocket } from "ws";
import type { BenchConfig } from "../config.ts";
import { type NotifierFigures, parseNotifierTable } from "../notifier-table.ts";
import { type BenchResult, type ResultRow, row } from "../report.ts";
import { realServices } from "../stacks.ts";
import { type Summary, summarize } from "../stats.ts";

const notifierBench = fileURLToPath(
  new URL("../../../notifier/src/bench/notifier-bench.ts", import.meta.url),
);
const bareServer = fileURLToPath(new URL("../bare-ws-server.ts", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the notifier's own benchmark (npm run bench -w notifier) and reads its table. */
function runNotifierBench(config: BenchConfig, env: NodeJS.ProcessEnv): Promise<NotifierFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", notifierBench], {
      env: {
        ...env,
        BENCH_CONNECTIONS: String(config.notifierConnections),
        BENCH_FANOUT: String(config.notifierFanout),
        BENCH_LATENCY_SAMPLES: String(config.notifierLatencySamples),
        BENCH_FANOUT_ROUNDS: String(config.notifierFanoutRounds),
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`the notifier benchmark exited with ${code}`));
      try {
        resolve(parseNotifierTable(output));
      } catch (error) {
        reject(error);
      }
    });
  });
}

function rss(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0) * 1024;
}

function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once("message", () => resolve(ws));
    ws.once("error", reject);
  });
}

/**
 * The peer: a bare `ws` server in its own process holding the same number of idle connections (RSS
 * delta per connection), and sending one frame to `fanout` of them (send to last frame read).
 */
async function bareWs(config: BenchConfig) {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", bareServer], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const sockets: WebSocket[] = [];
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`bare ws server exited with ${code}`)));
      child.stdout?.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    });
    const url = `ws://127.0.0.1:${port}`;
    const pid = child.pid as number;
    await sleep(1_000);
    const before = rss(pid);
    for (let i = 0; i < config.notifierConnections; i += 200) {
      const count = Math.min(200, config.notifierConnections - i);
      sockets.push(...(await Promise.all(Array.from({ length: count }, () => openSocket(`${url}/ws`)))));
    }
    await sleep(3_000);
    const perConnectionKiB = (rss(pid) - before) / config.notifierConnections / 1024;
    // Fan-out to the first `fanout` sockets only: the others are closed, as they hold no user's device.
    const targets = sockets.slice(0, config.notifierFanout);
    for (const socket of sockets.slice(config.notifierFanout)) socket.terminate();
    await sleep(1_000);
    const control = await new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`${url}/control`, { perMessageDeflate: false });
      ws.once("open", () => resolve(ws));
      ws.once("error", reject);
    });
    const rounds: number[] = [];
    for (let round = -3; round < config.notifierFanoutRounds; round++) {
      const token = String(round);
      let waiting = targets.length;
      const started = performance.now();
      const done = new Promise<number>((resolve) => {
        for (const socket of targets) {
          socket.once("message", (data) => {
            if (!data.toString().includes(`"${token}"`)) return;
            if (--waiting === 0) resolve(performance.now() - started);
          });
        }
      });
      control.send(token);
      const took = await done;
      if (round >= 0) rounds.push(took);
      await sleep(50);
    }
    control.close();
    return { perConnectionKiB, fanout: summarize(rounds) };
  } finally {
    for (const socket of sockets) socket.terminate();
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}

/**
 * From sending a transaction that notifies to the NOTIFY arriving on a LISTEN connection: the floor
 * under the relay's wake-up. (Timed from the send, not the COMMIT's answer: the NOTIFY often arrives
 * first.)
 */
async function listenNotify(databaseUrl: string, samples: number): Promise<Summary> {
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  try {
    let arrived: (() => void) | undefined;
    await sql.listen("bench_wake", () => arrived?.());
    const latencies: number[] = [];
    for (let i = -20; i < samples; i++) {
      const received = new Promise<number>((resolve) => {
        arrived = () => resolve(performance.now());
      });
      const sent = performance.now();
      await sql.begin((tx) => tx`SELECT pg_notify('bench_wake', ${String(i)})`);
      const at = await received;
      if (i >= 0) latencies.push(at - sent);
      await sleep(2);
    }
    return summarize(latencies);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * (7) The notifier's own benchmark, run as it is (embedded PostgreSQL and in-process bus; and, with
 * the real stack, PostgreSQL 15 and Kafka), beside a bare `ws` server holding the same connections and
 * fanning one frame out to the same number of sockets, and beside PostgreSQL's LISTEN/NOTIFY alone.
 */
export async function run(config: BenchConfig): Promise<BenchResult> {
  const problems: string[] = [];
  const rows: ResultRow[] = [];
  const services = realServices();
  const modes: { name: string; env: NodeJS.ProcessEnv }[] = [];
  const { DATABASE_URL: _database, KAFKA_BROKERS: _kafka, ...withoutServices } = process.env;
  // With the real stack its mode only (the suite's time budget); BENCH_NOTIFIER_BOTH=1 runs both.
  const real = Boolean(services?.kafkaBrokers.length);
  if (!real || process.env.BENCH_NOTIFIER_BOTH === "1") {
    modes.push({ name: "embedded, in-process bus", env: withoutServices });
  }
  if (real) modes.push({ name: "PostgreSQL 15 + Kafka", env: process.env });
  const peer = await bareWs(config).catch((error) => {
    problems.push(`bare ws peer: ${error}`);
    return null;
  });
  const notify = services
    ? await listenNotify(services.databaseUrl, 200).catch((error) => {
        problems.push(`LISTEN/NOTIFY reference: ${error}`);
        return null;
      })
    : null;
  for (const mode of modes) {
    try {
      const figures = await runNotifierBench(config, mode.env);
      const one = (value: number) => summarize([value]);
      rows.push(
        row(
          `memory per idle WebSocket at ${figures.connections.toLocaleString("en-US")} connections (${mode.name})`,
          "KiB",
          one(figures.perConnectionKiB),
          peer
            ? { label: "bare ws server, same connections", figure: one(peer.perConnectionKiB) }
            : undefined,
        ),
        row(
          `fan-out of one change to ${figures.fanoutSockets.toLocaleString("en-US")} devices, p50 (${mode.name})`,
          "ms",
          one(figures.fanoutP50),
          peer
            ? { label: "bare ws: one frame to as many sockets, p50", figure: one(peer.fanout.median) }
            : undefined,
        ),
        row(
          `fan-out to ${figures.fanoutSockets.toLocaleString("en-US")} devices, p99 (${mode.name})`,
          "ms",
          one(figures.fanoutP99),
          peer ? { label: "bare ws, p99", figure: one(peer.fanout.p99) } : undefined,
        ),
        row(
          `commit to changed frame, 1 socket, p50 (${mode.name})`,
          "ms",
          one(figures.latencyP50),
          notify
            ? {
                label: "PostgreSQL: notifying transaction sent to NOTIFY received, p50",
                figure: one(notify.median),
              }
            : undefined,
        ),
        row(
          `commit to changed frame, 1 socket, p99 (${mode.name})`,
          "ms",
          one(figures.latencyP99),
          notify ? { label: "transaction sent to NOTIFY, p99", figure: one(notify.p99) } : undefined,
        ),
      );
    } catch (error) {
      problems.push(`${mode.name}: ${(error as Error).message}`);
    }
  }
  return {
    id: "notifier",
    title: "7. Notifier",
    setup: `notifier/src/bench/notifier-bench.ts run as it is (the notifier in its own process; ${config.notifierConnections.toLocaleString("en-US")} idle connections, fan-out to ${config.notifierFanout.toLocaleString("en-US")} sockets of one user over ${config.notifierFanoutRounds} rounds, ${config.notifierLatencySamples} latency samples), once per mode: ${modes.map((m) => m.name).join("; ")}. Its figures are percentiles over its samples within one run. Peer: a bare \`ws\` server (bench/src/bare-ws-server.ts) in its own process, same counts${peer ? `, fan-out spread ${peer.fanout.min.toFixed(1)}–${peer.fanout.max.toFixed(1)} ms` : ""}. LISTEN/NOTIFY: 200 commits on ${services ? "PostgreSQL 15" : "(not measured without the real stack)"}.`,
    rows,
    problems,
  };
}
