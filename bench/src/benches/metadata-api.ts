import { createHash, randomBytes } from "node:crypto";
import { ApiClient, type ChunkHash, chunkHashFromDigest, limits } from "@wsync/shared-protocol";
import postgres from "postgres";
import type { BenchConfig } from "../config.ts";
import { startEdgeApiProcess } from "../edge-process.ts";
import { type LoadResult, load } from "../load.ts";
import { type BenchResult, row } from "../report.ts";
import { createDatabase, emptyBucket, realServices, s3Client } from "../stacks.ts";
import { summarize } from "../stats.ts";

interface Client {
  token: string;
  fileId: string;
  version: number;
  chunk: ChunkHash;
}

const randomHash = () => chunkHashFromDigest(randomBytes(32));
const json = (token: string) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });

/** One user per client, each with a file whose one chunk it uploaded (so commits need no S3 check). */
async function makeClients(url: string, count: number): Promise<Client[]> {
  const anonymous = new ApiClient({ baseUrl: url });
  const clients: Client[] = [];
  for (let i = 0; i < count; i++) {
    const session = await anonymous.register({
      email: `bench-api-${i}-${Date.now()}@example.com`,
      password: "bench password",
      deviceName: "bench",
    });
    const api = anonymous.withToken(session.token);
    const bytes = randomBytes(1024);
    const chunk = chunkHashFromDigest(createHash("sha256").update(bytes).digest());
    const upload = await api.uploadUrl({ chunkHash: chunk, size: bytes.length });
    if (upload.uploadUrl) {
      const put = await fetch(upload.uploadUrl, {
        method: "PUT",
        headers: upload.uploadHeaders ?? {},
        body: bytes,
      });
      if (!put.ok) throw new Error(`chunk PUT answered ${put.status}`);
    }
    const file = await api.createFile({
      parentId: null,
      name: `file-${i}.bin`,
      isFolder: false,
      chunks: [chunk],
    });
    clients.push({ token: session.token, fileId: file.fileId, version: file.version, chunk });
  }
  return clients;
}

/**
 * Lends each request a client no other request in flight holds, so concurrent commits never race for
 * one file's version. (autocannon clears a connection's context after every request, so a connection
 * cannot keep one.) The client comes back when the answer arrives.
 */
function lender(clients: Client[]) {
  const free = [...clients];
  let spare = 0;
  return {
    take(context: Record<string, unknown>): Client {
      // Only if an answer never came (a timeout): then share one, and a conflict shows as a failure.
      const client = free.shift() ?? (clients[spare++ % clients.length] as Client);
      context.client = client;
      return client;
    },
    give(context: Record<string, unknown>): Client {
      const client = context.client as Client;
      free.push(client);
      return client;
    },
  };
}

/**
 * Waits until the server answers a health check quickly again: the previous workload's requests
 * still in flight when autocannon stopped must not count against the next one.
 */
async function settle(url: string): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    const started = performance.now();
    await fetch(`${url}/healthz`).then((answer) => answer.arrayBuffer());
    if (performance.now() - started < 50) break;
    await sleep(500);
  }
  await sleep(500);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The floor under a commit: a minimal durable write transaction (UPDATE one row, INSERT one row) on
 * the same PostgreSQL, through a postgres.js pool of 10 like the edge API's, `connections` callers.
 */
async function postgresTransactions(
  databaseUrl: string,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const sql = postgres(databaseUrl, { max: 10, onnotice: () => {} });
  try {
    await sql`CREATE TABLE IF NOT EXISTS bench_counter (id int PRIMARY KEY, n bigint NOT NULL)`;
    await sql`CREATE TABLE IF NOT EXISTS bench_log (id bigserial PRIMARY KEY, counter int, n bigint, at timestamptz DEFAULT now())`;
    await sql`INSERT INTO bench_counter SELECT g, 0 FROM generate_series(0, ${connections - 1}) g ON CONFLICT DO NOTHING`;
    const latencies: number[] = [];
    const until = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: connections }, async (_, id) => {
        while (performance.now() < until) {
          const started = performance.now();
          await sql.begin(async (tx) => {
            const [counter] = await tx`UPDATE bench_counter SET n = n + 1 WHERE id = ${id} RETURNING n`;
            await tx`INSERT INTO bench_log (counter, n) VALUES (${id}, ${counter?.n ?? 0})`;
          });
          latencies.push(performance.now() - started);
        }
      }),
    );
    const sorted = latencies.sort((a, b) => a - b);
    return {
      okPerSecond: sorted.length / seconds,
      failures: 0,
      statuses: { committed: sorted.length },
      p50: sorted[Math.floor(sorted.length * 0.5)] ?? Number.NaN,
      p99: sorted[Math.floor(sorted.length * 0.99)] ?? Number.NaN,
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * (4) The metadata API on the real PostgreSQL (and Versity Gateway for presigning), the edge API in a
 * process of its own, autocannon with N concurrent clients: commits, single upload-url and batch
 * upload-urls. References from the same run: GET /healthz on the same server (the HTTP ceiling) and a
 * minimal write transaction straight on the same PostgreSQL (the database ceiling).
 */
export async function run(config: BenchConfig): Promise<BenchResult> {
  const services = realServices();
  if (!services) {
    return {
      id: "metadata-api",
      title: "4. Metadata API on real PostgreSQL",
      setup: "",
      rows: [],
      problems: ["needs the real services (run through npm run bench without BENCH_STACK=local)"],
    };
  }
  const connections = config.apiConnections;
  const seconds = config.apiSeconds;
  const batch = Math.min(config.apiBatchSize, limits.batchMax);
  const database = await createDatabase(services.databaseUrl);
  const bucket = `wsync-bench-api-${Date.now()}`;
  const s3 = { ...services.s3, bucket };
  const client = s3Client({ s3 });
  const edge = await startEdgeApiProcess({
    databaseUrl: database.url,
    s3,
    config: {
      maintenanceIntervalSeconds: 0,
      // Setup only: the accounts are made quickly; no measured request checks a password.
      passwordHashIterations: 1_000,
      rateLimits: { registerPerAddress: { limit: 100_000, windowSeconds: 3600 } },
    },
  });
  const problems: string[] = [];
  try {
    const clients = await makeClients(edge.url, connections);
    const runs = {
      commit: [] as LoadResult[],
      single: [] as LoadResult[],
      batch: [] as LoadResult[],
      healthz: [] as LoadResult[],
      postgres: [] as LoadResult[],
    };
    for (let round = 0; round < config.apiRepeats; round++) {
      // The reference first, on a server that has drained the previous round's work.
      await settle(edge.url);
      runs.healthz.push(
        await load({
          url: edge.url,
          connections,
          seconds,
          next: () => ({ method: "GET", path: "/healthz", headers: {} }),
        }),
      );
      await settle(edge.url);
      // Commits still in flight when the last run stopped may have landed since: start from the truth.
      await Promise.all(
        clients.map(async (c) => {
          c.version = (await new ApiClient({ baseUrl: edge.url, token: c.token }).getFile(c.fileId)).version;
        }),
      );
      const commitClients = lender(clients);
      runs.commit.push(
        await load({
          url: edge.url,
          connections,
          seconds,
          next: (context) => {
            const c = commitClients.take(context);
            return {
              method: "POST",
              path: `/api/v1/files/${c.fileId}/commit`,
              headers: json(c.token),
              body: JSON.stringify({ version: c.version + 1, chunks: [c.chunk] }),
            };
          },
          onAnswer: (status, body, context) => {
            const c = commitClients.give(context);
            if (status === 200) c.version++;
            else if (status === 409)
              c.version = (JSON.parse(body).error?.details?.currentVersion as number) ?? c.version;
          },
        }),
      );
      const singleClients = lender(clients);
      await settle(edge.url);
      runs.single.push(
        await load({
          url: edge.url,
          connections,
          seconds,
          next: (context) => ({
            method: "POST",
            path: "/api/v1/files/upload-url",
            headers: json(singleClients.take(context).token),
            body: JSON.stringify({ chunkHash: randomHash(), size: 4 * 1024 * 1024 }),
          }),
          onAnswer: (_status, _body, context) => singleClients.give(context),
        }),
      );
      const batchClients = lender(clients);
      await settle(edge.url);
      runs.batch.push(
        await load({
          url: edge.url,
          connections,
          seconds,
          next: (context) => ({
            method: "POST",
            path: "/api/v1/files/upload-urls",
            headers: json(batchClients.take(context).token),
            body: JSON.stringify({
              chunks: Array.from({ length: batch }, () => ({
                chunkHash: randomHash(),
                size: 4 * 1024 * 1024,
              })),
            }),
          }),
          onAnswer: (_status, _body, context) => batchClients.give(context),
        }),
      );
      runs.postgres.push(await postgresTransactions(database.url, connections, seconds));
    }
    for (const [name, list] of Object.entries(runs)) {
      const failures = list.reduce((sum, r) => sum + r.failures, 0);
      if (failures === 0) continue;
      const statuses: Record<string, number> = {};
      for (const r of list)
        for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
      problems.push(
        `${name}: ${failures} requests failed or got a non-2xx answer (answers: ${JSON.stringify(statuses)})`,
      );
    }
    const rate = (list: LoadResult[], times = 1) => summarize(list.map((r) => r.okPerSecond * times));
    const p50 = (list: LoadResult[]) => summarize(list.map((r) => r.p50));
    const p99 = (list: LoadResult[]) => summarize(list.map((r) => r.p99));
    const pg = "PostgreSQL write transaction (UPDATE + INSERT, pool of 10)";
    const health = "GET /healthz, same server";
    return {
      id: "metadata-api",
      title: "4. Metadata API on real PostgreSQL",
      setup: `Edge API (own process, request log on) on PostgreSQL 15 and Versity Gateway from scripts/stack; ${connections} concurrent clients (autocannon, one request at a time each), ${connections} users with one file each; ${seconds} s per run, ${config.apiRepeats} rounds, workloads interleaved, each after the server settled (a health check answered in under 50 ms). Commit: a new version with the file's one (owned) chunk. upload-url: a new random chunk hash each (pins it, issues an upload tag, presigns a PUT). Batch: ${batch} chunks per request.`,
      rows: [
        row(
          "commits",
          "commits/s",
          rate(runs.commit),
          { label: pg, figure: rate(runs.postgres) },
          { higherIsBetter: true },
        ),
        row("commit latency p50", "ms", p50(runs.commit), { label: pg, figure: p50(runs.postgres) }),
        row("commit latency p99", "ms", p99(runs.commit), { label: pg, figure: p99(runs.postgres) }),
        row(
          "upload-url answers (single)",
          "answers/s",
          rate(runs.single),
          { label: health, figure: rate(runs.healthz) },
          { higherIsBetter: true },
        ),
        row("upload-url latency p50 (single)", "ms", p50(runs.single), {
          label: health,
          figure: p50(runs.healthz),
        }),
        row("upload-url latency p99 (single)", "ms", p99(runs.single), {
          label: health,
          figure: p99(runs.healthz),
        }),
        row(
          `upload-urls answers (batch of ${batch})`,
          "answers/s",
          rate(runs.batch, batch),
          { label: "single upload-url", figure: rate(runs.single) },
          { higherIsBetter: true },
        ),
        row(`upload-urls latency p50 (batch of ${batch})`, "ms", p50(runs.batch), {
          label: health,
          figure: p50(runs.healthz),
        }),
        row(`upload-urls latency p99 (batch of ${batch})`, "ms", p99(runs.batch), {
          label: health,
          figure: p99(runs.healthz),
        }),
      ],
      problems,
    };
  } finally {
    await edge.close();
    await emptyBucket(client, bucket).catch(() => {});
    client.destroy();
    await database.drop();
  }
}
