import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import postgres from "postgres";
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
  const deps: AppDeps = {
    sql,
    storage,
    clock: () => new Date(),
    config: resolveConfig(options.config),
    log: options.log ?? stdoutLog,
    clientAddress: (c) => getConnInfo(c).remote.address,
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
    },
  };
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
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const running = await startEdgeApi(settingsFromEnvironment());
  stdoutLog({ level: "info", msg: "edge API listening", url: running.url });
  const stop = () => void running.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
