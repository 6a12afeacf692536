/**
 * Notifier benchmark (not a test): commit-to-WebSocket latency, memory per idle connection, fan-out.
 *
 *   npm run bench -w notifier                          embedded mode (in-process bus)
 *   KAFKA_BROKERS=127.0.0.1:9092 npm run bench -w notifier   through Kafka
 *   DATABASE_URL=postgres://...  use that server (a database is created on it) instead of an embedded one
 *   BENCH_CONNECTIONS=10000 BENCH_LATENCY_SAMPLES=1000 BENCH_FANOUT=1000 BENCH_FANOUT_ROUNDS=30
 *
 * The notifier runs in a child process of its own (src/main.ts), so its memory is measured alone; the
 * clients and the committing code share this process. Prints a Markdown table.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "@wsync/edge-api";
import { startEmbeddedPostgres } from "@wsync/local-stack/embedded-postgres";
import postgres, { type Sql } from "postgres";
import { WebSocket } from "ws";
import { commitChange, createUser, type TestDevice } from "../testing/edge-tables.ts";

const env = process.env;
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 10_000);
const LATENCY_SAMPLES = Number(env.BENCH_LATENCY_SAMPLES ?? 1_000);
const FANOUT = Number(env.BENCH_FANOUT ?? 1_000);
const FANOUT_ROUNDS = Number(env.BENCH_FANOUT_ROUNDS ?? 30);
const brokers = env.KAFKA_BROKERS ?? "";
const mainTs = fileURLToPath(new URL("../main.ts", import.meta.url));

const cleanups: (() => Promise<unknown>)[] = [];
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

async function database(): Promise<string> {
  let adminUrl = env.DATABASE_URL;
  if (!adminUrl) {
    const dataDir = await mkdtemp(join(tmpdir(), "wsync-bench-pg-"));
    const server = await startEmbeddedPostgres({ dataDir });
    cleanups.push(async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    });
    adminUrl = server.url;
  }
  const name = `bench_${randomUUID().replaceAll("-", "")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  cleanups.push(async () => {
    const dropper = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await dropper.end();
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  return url.toString();
}

/** The notifier as its own process; resolves with its URL once it listens. */
function startNotifierProcess(databaseUrl: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", mainTs], {
    env: {
      ...env,
      DATABASE_URL: databaseUrl,
      NOTIFIER_PORT: "0",
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC: `wsync.bench.${randomUUID()}`,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  cleanups.push(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  });
  return new Promise((resolve, reject) => {
    let buffered = "";
    child.once("exit", (code) => reject(new Error(`notifier exited with ${code}`)));
    child.stderr?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        try {
          const entry = JSON.parse(line) as { message?: string; url?: string; level?: string };
          if (entry.message === "notifier listening" && entry.url) resolve({ url: entry.url, child });
          else if (entry.level === "error") log(`notifier: ${line}`);
        } catch {
          log(`notifier: ${line}`);
        }
      }
    });
  });
}

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0) * 1024;
}

/** Devices of one user, inserted in bulk with tokens the edge API's authenticateDevice accepts. */
async function devicesOf(sql: Sql, userId: string, count: number): Promise<TestDevice[]> {
  const devices = Array.from({ length: count }, () => {
    const deviceId = randomUUID();
    const secret = randomBytes(32).toString("base64url");
    return { deviceId, secret, hash: createHash("sha256").update(secret).digest() };
  });
  for (let i = 0; i < devices.length; i += 1000) {
    const slice = devices.slice(i, i + 1000);
    await sql`INSERT INTO devices (owner_id, id, name, token_hash)
      SELECT ${userId}, id, 'bench', decode(hash, 'hex')
      FROM unnest(${slice.map((d) => d.deviceId)}::uuid[], ${slice.map((d) => d.hash.toString("hex"))}::text[]) AS t(id, hash)`;
  }
  return devices.map((d) => ({
    userId,
    deviceId: d.deviceId,
    token: `wsd1.${userId}.${d.deviceId}.${d.secret}`,
  }));
}

type Socket = { ws: WebSocket; onChanged: ((syncToken: string) => void) | undefined };

function open(url: string, device: TestDevice): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/ws`, {
      headers: { authorization: `Bearer ${device.token}` },
      perMessageDeflate: false,
    });
    const socket: Socket = { ws, onChanged: undefined };
    ws.on("message", (data) => {
      const message = JSON.parse(data.toString()) as { type: string; syncToken: string };
      if (message.type === "hello") resolve(socket);
      else socket.onChanged?.(message.syncToken);
    });
    ws.once("close", (code) => reject(new Error(`socket closed with ${code} before hello`)));
    ws.once("error", reject);
  });
}

async function openMany(url: string, devices: TestDevice[], parallel = 200): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < devices.length; i += parallel) {
    sockets.push(...(await Promise.all(devices.slice(i, i + parallel).map((device) => open(url, device)))));
  }
  return sockets;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const ms = (value: number) => `${value.toFixed(2)} ms`;
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

/** From COMMIT acknowledged to the frame arriving on each of `sockets`; resolves with the slowest. */
async function commitAndWait(sql: Sql, device: TestDevice, sockets: Socket[]): Promise<number> {
  let waiting = sockets.length;
  let committedAt = 0;
  let committedToken = "";
  let lastAt = 0;
  const arrived = new Promise<void>((resolve) => {
    for (const socket of sockets) {
      socket.onChanged = (syncToken) => {
        if (committedToken && syncToken !== committedToken) return;
        lastAt = performance.now();
        socket.onChanged = undefined;
        if (--waiting === 0) resolve();
      };
    }
  });
  const event = await commitChange(sql, device);
  committedAt = performance.now();
  committedToken = event.syncToken;
  await arrived;
  return lastAt - committedAt;
}

async function main() {
  const mode = brokers ? `Kafka (${brokers})` : "embedded (in-process bus)";
  log(`mode: ${mode}`);
  const databaseUrl = await database();
  const sql = postgres(databaseUrl, { max: 4, onnotice: () => {} });
  cleanups.push(() => sql.end());
  const { url, child } = await startNotifierProcess(databaseUrl);
  const pid = child.pid ?? 0;
  log(`notifier ${url} (pid ${pid})`);

  // 1. Latency, unloaded: one socket, one change at a time.
  const latencyUser = await createUser(sql);
  const [latencyDevice] = (await devicesOf(sql, latencyUser, 1)) as [TestDevice];
  const [latencySocket] = (await openMany(url, [latencyDevice])) as [Socket];
  for (let i = 0; i < 50; i += 1) await commitAndWait(sql, latencyDevice, [latencySocket]);
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i += 1) {
    latencies.push(await commitAndWait(sql, latencyDevice, [latencySocket]));
    await sleep(2);
  }
  latencies.sort((a, b) => a - b);
  log(`latency p50 ${ms(percentile(latencies, 50))} p99 ${ms(percentile(latencies, 99))}`);

  // 2. Memory per idle connection: RSS before and after CONNECTIONS sockets (one user holds FANOUT).
  await sleep(2_000);
  const rssBefore = rssBytes(pid);
  const fanoutUser = await createUser(sql);
  const fanoutDevices = await devicesOf(sql, fanoutUser, FANOUT);
  const others: TestDevice[] = [];
  for (let made = FANOUT; made < CONNECTIONS; made += 10) {
    others.push(...(await devicesOf(sql, await createUser(sql), Math.min(10, CONNECTIONS - made))));
  }
  const connectStarted = performance.now();
  const fanoutSockets = await openMany(url, fanoutDevices);
  await openMany(url, others);
  const connectSeconds = (performance.now() - connectStarted) / 1000;
  await sleep(3_000);
  const rssAfter = rssBytes(pid);
  const perConnection = (rssAfter - rssBefore) / CONNECTIONS;
  log(
    `${CONNECTIONS} connections in ${connectSeconds.toFixed(1)} s; RSS ${(rssBefore / 2 ** 20).toFixed(0)} -> ${(rssAfter / 2 ** 20).toFixed(0)} MiB`,
  );

  // 3. Fan-out of one change to FANOUT sockets of one user, with CONNECTIONS open in all.
  const [fanoutCommitter] = fanoutDevices as [TestDevice];
  for (let i = 0; i < 3; i += 1) await commitAndWait(sql, fanoutCommitter, fanoutSockets);
  const fanouts: number[] = [];
  for (let i = 0; i < FANOUT_ROUNDS; i += 1) {
    fanouts.push(await commitAndWait(sql, fanoutCommitter, fanoutSockets));
    await sleep(50);
  }
  fanouts.sort((a, b) => a - b);

  console.log(`
| ${mode} | figure |
| --- | --- |
| commit-to-WebSocket latency, 1 socket, ${LATENCY_SAMPLES} changes one at a time | p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}, max ${ms(latencies.at(-1) ?? 0)} |
| idle connections held by the notifier process | ${CONNECTIONS} (opened in ${connectSeconds.toFixed(1)} s, 200 at a time) |
| notifier RSS before / after | ${(rssBefore / 2 ** 20).toFixed(0)} MiB / ${(rssAfter / 2 ** 20).toFixed(0)} MiB |
| memory per idle connection (RSS delta / connections) | ${(perConnection / 1024).toFixed(1)} KiB |
| fan-out of one change to ${FANOUT} sockets of one user (commit to last frame), ${FANOUT_ROUNDS} rounds | p50 ${ms(percentile(fanouts, 50))}, p99 ${ms(percentile(fanouts, 99))} |
`);
}

try {
  await main();
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => log(`cleanup: ${error}`));
}
process.exit(0);
