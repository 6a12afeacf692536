// The edge API on Deno: the same app as on Node, served by Deno.serve. Run from edge-api/:
//   deno run --allow-env --allow-net --allow-read --allow-sys src/deno.ts
// (excluded from the Node type check: it uses the Deno namespace.)
import { getConnInfo } from "hono/deno";
import postgres from "postgres";
import { buildCache } from "./cache/build-cache.ts";
import { type EdgeConfigOverrides, resolveConfig } from "./config.ts";
import { migrate } from "./db/migrate.ts";
import { createApp } from "./http/app.ts";
import type { AppDeps } from "./http/context.ts";
import { stdoutLog } from "./http/request-log.ts";
import { scheduleMaintenance } from "./jobs/maintenance.ts";
import { createS3Storage } from "./storage/s3-storage.ts";

function need(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const databaseUrl = need("DATABASE_URL");
const config = resolveConfig(JSON.parse(Deno.env.get("EDGE_CONFIG_JSON") ?? "{}") as EdgeConfigOverrides);
await migrate(databaseUrl);
const storage = createS3Storage({
  endpoint: need("S3_ENDPOINT"),
  region: Deno.env.get("S3_REGION") ?? "us-east-1",
  bucket: Deno.env.get("S3_BUCKET") ?? "wsync-chunks",
  accessKeyId: need("S3_ACCESS_KEY_ID"),
  secretAccessKey: need("S3_SECRET_ACCESS_KEY"),
});
await storage.ensureBucket();

// The Redis client stays out of the Deno entry: an in-process cache (one instance), or none. A
// per-instance cache is unsafe to share a database with other instances (their invalidations would
// not reach it), so with REDIS_URL set (a scaled deployment) this instance runs without a cache.
const cacheOff = Deno.env.get("EDGE_CACHE") === "off" || Boolean(Deno.env.get("REDIS_URL"));
if (Deno.env.get("REDIS_URL")) {
  stdoutLog({ level: "warn", msg: "REDIS_URL is not used on Deno: running without a cache" });
}
const deps: AppDeps = {
  sql: postgres(databaseUrl, { max: 10, onnotice: () => {} }),
  storage,
  cache: buildCache({ kind: cacheOff ? "off" : "memory" }, config.cache, stdoutLog),
  clock: () => new Date(),
  config,
  log: stdoutLog,
  clientAddress: (c) => getConnInfo(c).remote.address,
};
const app = createApp(deps);
const maintenance =
  config.maintenanceIntervalSeconds > 0 ? scheduleMaintenance(deps, config.maintenanceIntervalSeconds) : null;

const server = Deno.serve(
  {
    hostname: Deno.env.get("HOST") ?? "127.0.0.1",
    port: Number(Deno.env.get("PORT") ?? 8787),
    onListen: ({ hostname, port }) =>
      stdoutLog({ level: "info", msg: "edge API listening", url: `http://${hostname}:${port}` }),
  },
  app.fetch,
);

const stop = async () => {
  await maintenance?.stop();
  await server.shutdown();
  await deps.sql.end({ timeout: 5 });
  Deno.exit(0);
};
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
