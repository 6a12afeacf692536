import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { limits } from "@wsync/shared-protocol";
import postgres from "postgres";
import { freePort } from "../free-port.ts";
import { type Instance, managedInstance } from "./instance.ts";
import { nginxConfig } from "./nginx-config.ts";
import { readStackEnvFile, runStackScript, type StackService } from "./stack-scripts.ts";

/** The real services the stack runs on; started from scripts/stack when not given. */
export interface ScaledServices {
  /** An admin URL of the PostgreSQL server; the app gets a database of its own on it. */
  postgresUrl: string;
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  kafkaBrokers: string[];
}

export interface ScaledStackOptions {
  /** Logs, service data and the nginx configuration go here. */
  runDir: string;
  /** The load balancer's ports (0: any free port). */
  apiPort: number;
  notifierPort: number;
  /** PostgreSQL, S3 and Kafka already running (the stack suite's); otherwise started here. */
  services?: ScaledServices;
  apiInstances?: number;
  notifierInstances?: number;
  /** Names of the app's database, bucket and Kafka topic (tests give each stack its own). */
  database?: string;
  bucket?: string;
  kafkaTopic?: string;
  /** The edge API's config overrides (EDGE_CONFIG_JSON). */
  edgeConfig?: Record<string, unknown>;
  /** The API instances' cache: Redis (default, shared) or none. */
  cache?: "redis" | "off";
  onProgress?: (line: string) => void;
}

export interface ScaledStack {
  apiUrl: string;
  notifierUrl: string;
  databaseUrl: string;
  redisUrl: string;
  s3: ScaledServices["s3"] & { bucket: string };
  kafkaBrokers: string[];
  kafkaTopic: string;
  apis: Instance[];
  notifiers: Instance[];
  /** This stack's own Redis (stopping it is a fault test's business). */
  redis: { stop(): Promise<void>; start(): Promise<void> };
  runDir: string;
  close(): Promise<void>;
}

/**
 * The scaled stack on loopback: PostgreSQL, Versity Gateway and Kafka (scripts/stack, unless given),
 * Redis, `apiInstances` edge API processes (Redis cache), `notifierInstances` notifier processes
 * (Kafka bus), and nginx in front of each group. Everything started is stopped again by close(), or
 * when the start fails part way.
 */
export async function startScaledStack(options: ScaledStackOptions): Promise<ScaledStack> {
  const progress = options.onProgress ?? (() => {});
  const runDir = options.runDir;
  await mkdir(runDir, { recursive: true });
  await chmod(runDir, 0o755); // PostgreSQL runs as `postgres` under root and must reach its folder
  const stops: { name: string; stop: () => Promise<unknown> }[] = [];
  const close = async () => {
    for (const { name, stop } of stops.splice(0).reverse()) {
      await stop().catch((error: unknown) => progress(`stopping ${name} failed: ${String(error)}`));
    }
  };
  const script = (service: StackService, action: string) =>
    runStackScript(service, [action, runDir], progress);

  try {
    const own: StackService[] = options.services ? [] : ["postgres", "versitygw", "kafka"];
    const all: StackService[] = [...own, "redis", "nginx"];
    progress(`provisioning ${all.join(", ")} (installs what is missing)`);
    await Promise.all(all.map((service) => runStackScript(service, ["provision"], progress)));
    const started = [...own, "redis"] as StackService[];
    // Registered before they start: stopping one that never came up is a no-op.
    for (const service of started) stops.push({ name: service, stop: () => script(service, "stop") });
    await Promise.all(started.map((service) => script(service, "start")));
    const env = Object.assign(
      {},
      ...started.map((service) => readStackEnvFile(join(runDir, `${service}.env`))),
    );
    const services: ScaledServices = options.services ?? {
      postgresUrl: env.DATABASE_URL,
      s3: {
        endpoint: env.S3_ENDPOINT,
        region: env.S3_REGION ?? "us-east-1",
        accessKeyId: env.S3_ACCESS_KEY_ID,
        secretAccessKey: env.S3_SECRET_ACCESS_KEY,
      },
      kafkaBrokers: String(env.KAFKA_BROKERS).split(","),
    };
    const redisUrl: string = env.REDIS_URL;
    const databaseUrl = await createDatabase(services.postgresUrl, options.database ?? "wsync");
    const bucket = options.bucket ?? "wsync-chunks";
    const kafkaTopic = options.kafkaTopic ?? "wsync.file-events";
    progress(
      `services ready: PostgreSQL, S3 at ${services.s3.endpoint}, Kafka at ${services.kafkaBrokers}, Redis at ${redisUrl}`,
    );

    const base: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      DATABASE_URL: databaseUrl,
    };
    const apiCount = options.apiInstances ?? 2;
    const apis: Instance[] = [];
    for (let i = 1; i <= apiCount; i++) {
      const port = await freePort();
      apis.push(
        managedInstance({
          name: `edge API ${i}`,
          script: "edge-api/src/node.ts",
          port,
          readyPath: "/readyz",
          logFile: join(runDir, `api-${i}.log`),
          env: {
            ...base,
            HOST: "127.0.0.1",
            PORT: String(port),
            S3_ENDPOINT: services.s3.endpoint,
            S3_REGION: services.s3.region,
            S3_BUCKET: bucket,
            S3_ACCESS_KEY_ID: services.s3.accessKeyId,
            S3_SECRET_ACCESS_KEY: services.s3.secretAccessKey,
            ...(options.cache === "off" ? { EDGE_CACHE: "off" } : { REDIS_URL: redisUrl }),
            EDGE_TRUST_PROXY: "1",
            EDGE_CONFIG_JSON: JSON.stringify(options.edgeConfig ?? {}),
          },
        }),
      );
    }
    for (const api of apis) stops.push({ name: api.name, stop: () => api.stop() });
    // Together: they migrate under an advisory lock, so each migration runs once.
    await Promise.all(apis.map((api) => api.start()));
    progress(`edge API instances ready: ${apis.map((api) => api.url).join(", ")}`);

    const notifiers: Instance[] = [];
    for (let i = 1; i <= (options.notifierInstances ?? 2); i++) {
      const port = await freePort();
      notifiers.push(
        managedInstance({
          name: `notifier ${i}`,
          script: "notifier/src/main.ts",
          port,
          readyPath: "/healthz",
          logFile: join(runDir, `notifier-${i}.log`),
          env: {
            ...base,
            NOTIFIER_HOST: "127.0.0.1",
            NOTIFIER_PORT: String(port),
            KAFKA_BROKERS: services.kafkaBrokers.join(","),
            KAFKA_TOPIC: kafkaTopic,
          },
        }),
      );
    }
    for (const notifier of notifiers) stops.push({ name: notifier.name, stop: () => notifier.stop() });
    // One at a time: the first creates the topic.
    for (const notifier of notifiers) await notifier.start();
    progress(`notifier instances ready: ${notifiers.map((n) => n.url).join(", ")}`);

    const apiPort = options.apiPort || (await freePort());
    const notifierPort = options.notifierPort || (await freePort());
    const nginxDir = join(runDir, "nginx");
    for (const temp of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) {
      await mkdir(join(nginxDir, "tmp", temp), { recursive: true });
      await chmod(join(nginxDir, "tmp", temp), 0o777); // workers may run as `nobody`
    }
    await writeFile(
      join(nginxDir, "nginx.conf"),
      nginxConfig({
        dir: nginxDir,
        apiPort,
        notifierPort,
        apiUpstreams: apis.map((api) => api.url.replace("http://", "")),
        notifierUpstreams: notifiers.map((n) => n.url.replace("http://", "")),
        maxBodyBytes: limits.bodyMaxBytes * 4,
      }),
    );
    stops.push({ name: "nginx", stop: () => script("nginx", "stop") });
    await runStackScript("nginx", ["start", runDir], progress, {
      ...process.env,
      WSYNC_NGINX_PORTS: `${apiPort} ${notifierPort}`,
    });
    progress(`nginx: edge API on 127.0.0.1:${apiPort}, notifier on 127.0.0.1:${notifierPort}`);

    return {
      apiUrl: `http://127.0.0.1:${apiPort}`,
      notifierUrl: `http://127.0.0.1:${notifierPort}`,
      databaseUrl,
      redisUrl,
      s3: { ...services.s3, bucket },
      kafkaBrokers: services.kafkaBrokers,
      kafkaTopic,
      apis,
      notifiers,
      redis: { stop: () => script("redis", "stop"), start: () => restartRedis(runDir, redisUrl, progress) },
      runDir,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Starts this stack's Redis again on the port it had, so the instances reconnect to it. */
function restartRedis(runDir: string, redisUrl: string, progress: (line: string) => void) {
  return runStackScript("redis", ["start", runDir], progress, {
    ...process.env,
    WSYNC_REDIS_PORT: new URL(redisUrl).port,
  });
}

async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const existing = await sql`SELECT 1 FROM pg_database WHERE datname = ${name}`;
    if (existing.length === 0) await sql.unsafe(`CREATE DATABASE "${name.replaceAll('"', "")}"`);
  } finally {
    await sql.end({ timeout: 5 });
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
