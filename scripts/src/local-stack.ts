import { randomBytes } from "node:crypto";
import { chmod, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type S3Settings, startEdgeApi } from "@wsync/edge-api";
import { type BusConfig, startNotifier } from "@wsync/notifier";
import postgres from "postgres";
import { type DataDirLock, lockDataDir } from "./data-dir-lock.ts";
import { startEmbeddedPostgres } from "./embedded-postgres.ts";
import { startLocalS3 } from "./local-s3/index.ts";
import { DEFAULT_BUCKET, DEFAULT_REGION, type ExternalS3 } from "./start-config.ts";

export const APP_DATABASE = "wsync";

export interface LocalStackOptions {
  /**
   * Embedded PostgreSQL lives in `<dataDir>/postgres`, embedded S3 objects in `<dataDir>/s3`. Needed
   * unless both `databaseUrl` and `s3` name external services.
   */
  dataDir?: string;
  /** 0 takes any free port. */
  apiPort: number;
  notifierPort: number;
  /** Embedded S3 store's port; any free port when omitted. */
  s3Port?: number;
  /** Embedded PostgreSQL's port; any free port when omitted. */
  pgPort?: number;
  /** The app's database on an external PostgreSQL, instead of the embedded cluster. */
  databaseUrl?: string;
  /** An external S3-compatible store, instead of the embedded one. */
  s3?: ExternalS3;
  /** Default `wsync-chunks`; the edge API makes it if missing. */
  bucket?: string;
  /** The notifier's bus goes through Kafka when set; otherwise in-process. */
  kafkaBrokers?: string[];
  /** Kafka topic of the bus (tests give each stack its own); the notifier's default otherwise. */
  kafkaTopic?: string;
  /** Progress lines ("PostgreSQL ready"); silent by default. */
  onProgress?: (message: string) => void;
  /** Quiet the edge API's request log and the notifier's log (tests). */
  quiet?: boolean;
}

export interface LocalStack {
  apiUrl: string;
  notifierUrl: string;
  /** The app database the edge API and the notifier use. */
  databaseUrl: string;
  s3: S3Settings;
  /** Which parts run embedded in this process (as opposed to external services). */
  embedded: { postgres: boolean; s3: boolean; bus: boolean };
  /** Stops everything this call started, last started first. Safe to call twice. */
  close(): Promise<void>;
}

const HOST = "127.0.0.1";

/**
 * The whole backend in this process, on loopback: PostgreSQL and an S3 store (embedded unless
 * external ones are named), the edge API, then the notifier (it needs the tables the edge API's
 * migrations make). If any part fails to start, the parts already running are stopped again.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const progress = options.onProgress ?? (() => {});
  const stops: Array<{ name: string; stop: () => Promise<void> }> = [];
  let lock: DataDirLock | undefined;
  const close = onceAsync(async () => {
    const failures: unknown[] = [];
    for (const { name, stop } of stops.reverse()) {
      try {
        await stop();
        progress(`${name} stopped`);
      } catch (error) {
        failures.push(new Error(`stopping ${name} failed: ${(error as Error).message}`, { cause: error }));
      }
    }
    // Kept when a part failed to stop: its leftovers are then stopped by the next start.
    if (failures.length === 0) await lock?.release();
    if (failures.length) throw new AggregateError(failures, "the local stack did not stop cleanly");
  });

  try {
    if (!options.databaseUrl || !options.s3) {
      const dataDir = dataDirOf(options);
      await mkdir(dataDir, { recursive: true });
      // As root, embedded PostgreSQL runs as `postgres`, which must reach <dataDir>/postgres.
      if (!options.databaseUrl) await chmod(dataDir, 0o755);
      lock = await lockDataDir(dataDir);
    }
    // allSettled, not all: when one fails, the other must finish starting so close() can stop it.
    const [database, store] = await Promise.allSettled([
      startDatabase(options, stops, progress),
      startObjectStore(options, stops, progress),
    ]);
    if (database.status === "rejected") throw database.reason;
    if (store.status === "rejected") throw store.reason;
    const databaseUrl = database.value;
    const s3 = store.value;
    const api = await startEdgeApi({
      databaseUrl,
      s3,
      host: HOST,
      port: options.apiPort,
      ...(options.quiet ? { log: () => {} } : {}),
    });
    stops.push({ name: "edge API", stop: () => api.close() });
    progress(`edge API ready at ${api.url}`);

    const bus: BusConfig = options.kafkaBrokers?.length
      ? {
          kind: "kafka",
          brokers: options.kafkaBrokers,
          ...(options.kafkaTopic ? { topic: options.kafkaTopic } : {}),
        }
      : { kind: "in-process" };
    const notifier = await startNotifier({
      databaseUrl,
      bus,
      host: HOST,
      port: options.notifierPort,
      ...(options.quiet ? { logger: { info() {}, warn() {}, error() {} } } : {}),
    });
    stops.push({ name: "notifier", stop: () => notifier.close() });
    progress(`notifier ready at ${notifier.url}`);

    return {
      apiUrl: api.url,
      notifierUrl: notifier.url,
      databaseUrl,
      s3,
      embedded: { postgres: !options.databaseUrl, s3: !options.s3, bus: bus.kind === "in-process" },
      close,
    };
  } catch (error) {
    await close().catch((closeError) => progress(`cleanup after a failed start: ${String(closeError)}`));
    throw error;
  }
}

type Stops = Array<{ name: string; stop: () => Promise<void> }>;

async function startDatabase(options: LocalStackOptions, stops: Stops, progress: (m: string) => void) {
  if (options.databaseUrl) return options.databaseUrl;
  const server = await startEmbeddedPostgres({
    dataDir: join(dataDirOf(options), "postgres"),
    // Stopped by close(), after the API and the notifier, not by a terminal's Ctrl-C.
    detached: true,
    ...(options.pgPort ? { port: options.pgPort } : {}),
  });
  stops.push({ name: "PostgreSQL", stop: () => server.stop() });
  await createDatabaseIfMissing(server.url, APP_DATABASE);
  const url = new URL(server.url);
  url.pathname = `/${APP_DATABASE}`;
  progress(`PostgreSQL ready on 127.0.0.1:${server.port} (data in ${join(dataDirOf(options), "postgres")})`);
  return url.toString();
}

async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const existing = await sql`SELECT 1 FROM pg_database WHERE datname = ${name}`;
    if (existing.length === 0) await sql.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function startObjectStore(
  options: LocalStackOptions,
  stops: Stops,
  progress: (m: string) => void,
): Promise<S3Settings> {
  const bucket = options.bucket ?? DEFAULT_BUCKET;
  if (options.s3) return { ...options.s3, bucket };
  // Fresh keys each start: presigned URLs live minutes, so nothing needs them across restarts.
  const accessKeyId = `wsync${randomBytes(6).toString("hex")}`;
  const secretAccessKey = randomBytes(24).toString("hex");
  const dataDir = join(dataDirOf(options), "s3");
  const store = await startLocalS3({
    dataDir,
    host: HOST,
    port: options.s3Port ?? 0,
    accessKeyId,
    secretAccessKey,
    region: DEFAULT_REGION,
  });
  stops.push({ name: "S3 store", stop: () => store.close() });
  progress(`S3 store ready at ${store.endpoint} (data in ${dataDir})`);
  return { endpoint: store.endpoint, region: DEFAULT_REGION, bucket, accessKeyId, secretAccessKey };
}

function dataDirOf(options: LocalStackOptions): string {
  if (!options.dataDir) throw new Error("the embedded PostgreSQL and S3 store need a data folder (dataDir)");
  return options.dataDir;
}

function onceAsync(run: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= run();
    return running;
  };
}
