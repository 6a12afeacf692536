import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import postgres from "postgres";
import { buildCache } from "./cache/build-cache.ts";
import { createRedisStore, type RedisStore } from "./cache/redis-store.ts";
import { type EdgeConfigOverrides, resolveConfig } from "./config.ts";
import { migrate } from "./db/migrate.ts";
import { createApp } from "./http/app.ts";
import type { AppDeps, LogSink } from "./http/context.ts";
import { stdoutLog } from "./http/request-log.ts";
import { scheduleMaintenance } from "./jobs/maintenance.ts";
import { createS3Storage, type S3Settings } from "./storage/s3-storage.ts";

export type { S3Settings } from "./storage/s3-storage.ts";

export interface EdgeApiOptions {
  databaseUrl: string;
  s3: S3Settings;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8787; 0 picks a free port. */
  port?: number;
  config?: EdgeConfigOverrides;
  log?: LogSink;
  /**
   * The cache of chunk ownership and file metadata: in this process (default; one instance), Redis
   * (shared by every instance: what several instances need), or none.
   */
  cache?: { kind: "memory" } | { kind: "redis"; url: string } | { kind: "off" };
  /**
   * Behind a load balancer that appends the client's address to X-Forwarded-For (nginx's
   * $proxy_add_x_forwarded_for): rate limits then count the client, not the balancer.
   */
  trustProxy?: boolean;
}

export interface RunningEdgeApi {
  /** Base URL with the real port, e.g. `http://127.0.0.1:41234`. */
  url: string;
  close(): Promise<void>;
}

/** The edge API on Node: migrates the database, makes sure the bucket exists, then listens. */
export async function startEdgeApi(options: EdgeApiOptions): Promise<RunningEdgeApi> {
  await migrate(options.databaseUrl);
  const storage = createS3Storage(options.s3);
  await storage.ensureBucket();
  const sql = postgres(options.databaseUrl, { max: 10, onnotice: () => {} });
  const config = resolveConfig(options.config);
  const log = options.log ?? stdoutLog;
  const choice = options.cache ?? { kind: "memory" };
  let redis: RedisStore | undefined;
  if (choice.kind === "redis") {
    redis = createRedisStore({ url: choice.url, commandTimeoutMs: config.cache.timeoutMs, log });
    // Serving does not wait for Redis: without it, answers come from PostgreSQL until it is back.
    if (!(await redis.ready(3_000)))
      log({ level: "warn", msg: "redis not reachable at start; serving without it" });
  }
  const cache = buildCache(
    redis ? { kind: "store", store: redis } : { kind: choice.kind === "off" ? "off" : "memory" },
    config.cache,
    log,
  );
  const deps: AppDeps = {
    sql,
    storage,
    cache,
    clock: () => new Date(),
    config,
    log,
    clientAddress: (c) =>
      (options.trustProxy ? forwardedFor(c.req.header("x-forwarded-for")) : undefined) ??
      getConnInfo(c).remote.address,
  };
  const app = createApp(deps);
  const interval = deps.config.maintenanceIntervalSeconds;
  const maintenance = interval > 0 ? scheduleMaintenance(deps, interval) : null;
  const host = options.host ?? "127.0.0.1";
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
    (resolve, reject) => {
      const server = serve(
        { fetch: app.fetch, hostname: host, port: options.port ?? 8787 },
        (info: AddressInfo) => resolve({ server, port: info.port }),
      );
      server.once("error", reject);
    },
  );
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    async close() {
      await maintenance?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets would hold close() open until they time out.
        if ("closeAllConnections" in server) server.closeAllConnections();
      });
      await sql.end({ timeout: 5 });
      await cache.close();
    },
  };
}

/** The address the nearest proxy saw: the last entry (earlier ones are the client's own claims). */
export function forwardedFor(header: string | undefined): string | undefined {
  const last = header?.split(",").at(-1)?.trim();
  return last ? last : undefined;
}

function settingsFromEnvironment(): EdgeApiOptions {
  const env = process.env;
  const need = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  return {
    databaseUrl: need("DATABASE_URL"),
    s3: {
      endpoint: need("S3_ENDPOINT"),
      region: env.S3_REGION ?? "us-east-1",
      bucket: env.S3_BUCKET ?? "wsync-chunks",
      accessKeyId: need("S3_ACCESS_KEY_ID"),
      secretAccessKey: need("S3_SECRET_ACCESS_KEY"),
    },
    host: env.HOST ?? "127.0.0.1",
    port: Number(env.PORT ?? 8787),
    config: JSON.parse(env.EDGE_CONFIG_JSON ?? "{}") as EdgeConfigOverrides,
    trustProxy: env.EDGE_TRUST_PROXY === "1",
    cache:
      env.EDGE_CACHE === "off"
        ? { kind: "off" }
        : env.REDIS_URL && env.EDGE_CACHE !== "memory"
          ? { kind: "redis", url: env.REDIS_URL }
          : { kind: "memory" },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const running = await startEdgeApi(settingsFromEnvironment());
  stdoutLog({ level: "info", msg: "edge API listening", url: running.url, pid: process.pid });
  const stop = () => void running.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
