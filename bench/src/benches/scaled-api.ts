/**
 * Benchmark: edge API throughput on the scaled stack (scripts/src/scaled), upload-url and commit,
 * with one and with two API instances behind nginx, each with the Redis cache on and off, all in one
 * run on the same real services (Debian PostgreSQL, Versity Gateway, Kafka; a Redis per stack).
 *
 *   node --import tsx bench/src/benches/scaled-api.ts     on its own (starts the services itself)
 *   BENCH_ONLY=scaled-api npm run bench                    in the suite (its real services, from the
 *                                                          environment; nginx and Redis of its own)
 * It is skipped, with the reason, when those services cannot be provisioned.
 * BENCH_SCALED_SECONDS (4), BENCH_SCALED_REPEATS (3), BENCH_SCALED_CLIENTS (16) tune it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { makeChunk, putChunk } from "@wsync/edge-api/testing/chunks";
import { type ScaledServices, startScaledStack } from "@wsync/local-stack/scaled-stack";
import { readStackEnvFile, runStackScript } from "@wsync/local-stack/stack-scripts";
import { ApiClient, type ChunkHash } from "@wsync/shared-protocol";
import postgres from "postgres";
import type { BenchResult, ResultRow } from "../report.ts";
import { row } from "../report.ts";
import { summarize } from "../stats.ts";

const env = process.env;
const seconds = Number(env.BENCH_SCALED_SECONDS ?? 4);
const repeats = Number(env.BENCH_SCALED_REPEATS ?? 3);
const clients = Number(env.BENCH_SCALED_CLIENTS ?? 16);
/** Failed requests during measurement (none expected). */
const errors: string[] = [];
const log = (line: string) => process.stderr.write(`[scaled-api] ${line}\n`);

interface Setup {
  label: string;
  instances: number;
  cache: "redis" | "off";
}
const setups: Setup[] = [
  { label: "1 instance, no cache", instances: 1, cache: "off" },
  { label: "1 instance, Redis cache", instances: 1, cache: "redis" },
  { label: "2 instances, no cache", instances: 2, cache: "off" },
  { label: "2 instances, Redis cache", instances: 2, cache: "redis" },
];

interface Worker {
  client: ApiClient;
  fileId: string;
  version: number;
  chunks: ChunkHash[];
}

/** One user per client, each with a file of four uploaded (so owned) chunks. */
async function prepare(apiUrl: string): Promise<Worker[]> {
  const anonymous = new ApiClient({ baseUrl: apiUrl });
  return Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const session = await anonymous.register({
        email: `bench-${i}-${crypto.randomUUID().slice(0, 8)}@example.com`,
        password: "correct horse battery",
        deviceName: "bench",
      });
      const client = anonymous.withToken(session.token);
      const chunks: ChunkHash[] = [];
      for (let c = 0; c < 4; c++) {
        const chunk = await makeChunk(`bench ${i} ${c} ${crypto.randomUUID()}`);
        const answer = await client.uploadUrl({ chunkHash: chunk.hash, size: chunk.bytes.length });
        if (answer.uploadUrl) await putChunk(answer.uploadUrl, answer.uploadHeaders, chunk.bytes);
        chunks.push(chunk.hash);
      }
      const file = await client.createFile({ parentId: null, name: "bench.bin", isFolder: false, chunks });
      return { client, fileId: file.fileId, version: file.version, chunks };
    }),
  );
}

/** Requests per second of `clients` closed-loop workers running `op` for `seconds`. */
async function throughput(
  workers: Worker[],
  op: (w: Worker, i: number) => Promise<unknown>,
): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    workers.map(async (worker) => {
      for (let i = 0; performance.now() < until; i++) {
        try {
          await op(worker, i);
          done++;
        } catch (error) {
          // Counted, not fatal: the report lists them. A commit's version is read back.
          errors.push(error instanceof Error ? error.message : String(error));
          worker.version = (await worker.client.getFile(worker.fileId)).version;
        }
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

const uploadUrl = (w: Worker, i: number) =>
  w.client.uploadUrl({ chunkHash: w.chunks[i % w.chunks.length] as ChunkHash, size: 100 });
const commit = async (w: Worker) => {
  const receipt = await w.client.commit(w.fileId, { version: w.version + 1, chunks: w.chunks });
  w.version = receipt.version;
};

interface Running {
  setup: Setup;
  workers: Worker[];
  upload: number[];
  commits: number[];
  /** PostgreSQL transactions (each autocommit statement is one) per request, for each window. */
  uploadXacts: number[];
  commitXacts: number[];
  /** Transactions committed on the stack's database so far. */
  xacts(): Promise<number>;
  close(): Promise<void>;
}

async function startSetup(services: ScaledServices, setup: Setup): Promise<Running> {
  const runDir = await mkdtemp(join(tmpdir(), "wsync-bench-scaled-"));
  const id = crypto.randomUUID().slice(0, 8);
  const stack = await provisioned(`the scaled stack (${setup.label}: nginx, Redis, edge API, notifier)`, () =>
    startScaledStack({
      runDir,
      apiPort: 0,
      notifierPort: 0,
      services,
      apiInstances: setup.instances,
      notifierInstances: 1,
      cache: setup.cache,
      database: `wsync_bench_${id}`,
      bucket: `wsync-bench-${id}`,
      kafkaTopic: `wsync.bench.${id}`,
      edgeConfig: {
        passwordHashIterations: 1_000,
        maintenanceIntervalSeconds: 0,
        rateLimits: { registerPerAddress: { limit: 100_000, windowSeconds: 60 } },
      },
    }),
  ).catch(async (error) => {
    await rm(runDir, { recursive: true, force: true });
    throw error;
  });
  const admin = postgres(stack.databaseUrl, { max: 1, onnotice: () => {} });
  const xacts = async () => {
    // An idle backend flushes its statistics to the shared counters within 10 s (PostgreSQL 15).
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    const [row] = await admin<{ n: string }[]>`
      SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()`;
    return Number(row?.n ?? Number.NaN);
  };
  const close = async () => {
    await admin.end({ timeout: 5 });
    await stack.close();
    await rm(runDir, { recursive: true, force: true });
  };
  try {
    const workers = await prepare(stack.apiUrl);
    await throughput(workers, uploadUrl); // warm-up: connections, JIT, caches
    return { setup, workers, upload: [], commits: [], uploadXacts: [], commitXacts: [], xacts, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** One window: its request rate, and the PostgreSQL transactions per request it caused. */
async function measureWindow(
  one: Running,
  op: (w: Worker, i: number) => Promise<unknown>,
  rates: number[],
  perRequest: number[] | null,
) {
  const before = perRequest ? await one.xacts() : 0;
  const started = performance.now();
  const rate = await throughput(one.workers, op);
  const requests = rate * ((performance.now() - started) / 1000);
  rates.push(rate);
  // Less the one transaction that read the counter. (The notifier's relay sweeps add one every 5 s.)
  if (perRequest) perRequest.push(((await one.xacts()) - before - 1) / requests);
}

/**
 * All four stacks run at once and are measured in turn, round after round, so that the machine's
 * drift (it is shared) spreads over all of them instead of favouring whichever ran first.
 */
async function measureAll(services: ScaledServices) {
  const running: Running[] = [];
  try {
    for (const setup of setups) running.push(await startSetup(services, setup));
    for (let r = 0; r < repeats; r++) {
      for (const one of running) {
        // Transactions are counted in the first round only: each count waits for the statistics.
        await measureWindow(one, uploadUrl, one.upload, r === 0 ? one.uploadXacts : null);
        await measureWindow(one, commit, one.commits, r === 0 ? one.commitXacts : null);
      }
    }
    for (const one of running) {
      log(
        `${one.setup.label}: upload-url ${one.upload.map(Math.round)} /s, commit ${one.commits.map(Math.round)} /s`,
      );
    }
    return new Map(
      running.map((one) => [
        one.setup.label,
        {
          upload: summarize(one.upload),
          commit: summarize(one.commits),
          uploadXacts: summarize(one.uploadXacts),
          commitXacts: summarize(one.commitXacts),
        },
      ]),
    );
  } finally {
    for (const one of running) await one.close();
  }
}

function servicesFromEnvironment(): ScaledServices | null {
  if (
    !env.DATABASE_URL ||
    !env.S3_ENDPOINT ||
    !env.S3_ACCESS_KEY_ID ||
    !env.S3_SECRET_ACCESS_KEY ||
    !env.KAFKA_BROKERS
  )
    return null;
  return {
    postgresUrl: env.DATABASE_URL,
    s3: {
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION ?? "us-east-1",
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
    },
    kafkaBrokers: env.KAFKA_BROKERS.split(","),
  };
}

const title = "Scaled metadata API: one vs two instances, Redis cache on vs off";

/** The result of a run that could not measure, saying why (the suite goes on with the others). */
function skipped(why: string): BenchResult {
  log(`skipped: ${why}`);
  return {
    id: "scaled-api",
    title,
    setup: `Not measured: ${why}`,
    rows: [],
    problems: [`skipped: ${why}`],
  };
}

/**
 * The scaled stack needs nginx and Redis besides PostgreSQL, an S3 store and Kafka; its scripts
 * install what is missing (apt-get, go install, Maven Central). Where that cannot be done (no network,
 * no root, BENCH_STACK=local) the benchmark is skipped with the reason rather than failing the suite.
 */
export async function run(): Promise<BenchResult> {
  if (env.BENCH_STACK === "local")
    return skipped(
      "BENCH_STACK=local: the scaled stack needs the real services (PostgreSQL, Versity Gateway, Kafka), nginx and Redis",
    );
  try {
    return await measure();
  } catch (error) {
    if (error instanceof ServicesUnavailable) return skipped(error.message);
    throw error;
  }
}

class ServicesUnavailable extends Error {}

async function provisioned<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw new ServicesUnavailable(
      `${what} could not be provisioned or started (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

async function measure(): Promise<BenchResult> {
  let services = servicesFromEnvironment();
  let stopServices = async () => {};
  if (!services) {
    const dir = await mkdtemp(join(tmpdir(), "wsync-bench-services-"));
    const own = ["postgres", "versitygw", "kafka"] as const;
    stopServices = async () => {
      for (const s of own) await runStackScript(s, ["stop", dir], log).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    };
    try {
      await provisioned("PostgreSQL, Versity Gateway and Kafka", async () => {
        await Promise.all(own.map((s) => runStackScript(s, ["provision"], log)));
        await Promise.all(own.map((s) => runStackScript(s, ["start", dir], log)));
      });
    } catch (error) {
      await stopServices();
      throw error;
    }
    const values = Object.assign({}, ...own.map((s) => readStackEnvFile(join(dir, `${s}.env`))));
    services = {
      postgresUrl: values.DATABASE_URL,
      s3: {
        endpoint: values.S3_ENDPOINT,
        region: values.S3_REGION ?? "us-east-1",
        accessKeyId: values.S3_ACCESS_KEY_ID,
        secretAccessKey: values.S3_SECRET_ACCESS_KEY,
      },
      kafkaBrokers: String(values.KAFKA_BROKERS).split(","),
    };
  }
  try {
    const results = await measureAll(services);
    const base = results.get(setups[0]?.label ?? "");
    const rows: ResultRow[] = [];
    for (const [metric, unit, pick] of [
      ["upload-url (a chunk the user owns)", "req/s", (r: { upload: unknown }) => r.upload],
      [
        "commit (a new version of the user's file, chunks owned)",
        "req/s",
        (r: { commit: unknown }) => r.commit,
      ],
      ["PostgreSQL transactions per upload-url", "xact", (r: { uploadXacts: unknown }) => r.uploadXacts],
      ["PostgreSQL transactions per commit", "xact", (r: { commitXacts: unknown }) => r.commitXacts],
    ] as const) {
      for (const setup of setups) {
        const result = results.get(setup.label);
        if (!result || !base) continue;
        const figure = pick(result as never) as ReturnType<typeof summarize>;
        const reference =
          setup === setups[0]
            ? undefined
            : { label: setups[0]?.label ?? "", figure: pick(base as never) as ReturnType<typeof summarize> };
        rows.push(
          row(`${metric}: ${setup.label}`, unit, figure, reference, { higherIsBetter: unit === "req/s" }),
        );
      }
    }
    return {
      id: "scaled-api",
      title,
      setup:
        `${clients} closed-loop clients (one user each) through nginx to 1 or 2 edge API processes, ` +
        `${repeats} windows of ${seconds} s per figure, the four setups running side by side and measured ` +
        "in turn each round, on Debian PostgreSQL 15 and Versity Gateway; " +
        "client, nginx, instances, PostgreSQL and Redis share the machine's cores.",
      rows,
      ...(errors.length > 0
        ? {
            problems: [
              `${errors.length} request(s) failed during measurement, e.g. ${errors.slice(0, 3).join("; ")}`,
            ],
          }
        : {}),
    };
  } finally {
    await stopServices();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await run();
  const { formatReport } = await import("../report.ts");
  process.stdout.write(`${formatReport([result])}\n`);
  process.exit(0);
}
