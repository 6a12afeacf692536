// `npm run start:scaled`: the backend as it scales out, on this machine. Debian's PostgreSQL, Versity
// Gateway and Kafka (scripts/stack), Debian's redis-server, two edge API instances sharing a Redis
// cache, two notifier instances on the Kafka bus, and Debian's nginx in front, on the ports of
// `npm start` (API 8787, notifier 8788), so every client, test and benchmark of `npm start` runs
// unchanged against it. Installs what is missing. Data is thrown away at stop (WSYNC_SCALED_KEEP=1
// keeps the run folder). Ctrl-C stops everything.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startScaledStack } from "./scaled/scaled-stack.ts";
import { SHUTDOWN_SIGNALS } from "./shutdown-signals.ts";

const progress = (line: string) => console.error(`[wsync scaled] ${line}`);
const env = process.env;
const apiPort = Number(env.WSYNC_API_PORT ?? 8787);
const notifierPort = Number(env.WSYNC_NOTIFIER_PORT ?? 8788);

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function main(): Promise<number> {
  for (const port of [apiPort, notifierPort]) {
    if (port !== 0 && !(await portIsFree(port))) {
      progress(`port ${port} is taken (is npm start running?); set WSYNC_API_PORT / WSYNC_NOTIFIER_PORT`);
      return 2;
    }
  }
  const runDir = await mkdtemp(join(tmpdir(), "wsync-scaled-"));
  let stopping = false;
  let wake: () => void = () => {};
  const stopRequested = new Promise<void>((resolve) => {
    wake = resolve;
  });
  for (const signal of SHUTDOWN_SIGNALS) {
    process.on(signal, () => {
      if (stopping) {
        progress(`${signal} again: exiting now (run folder ${runDir})`);
        process.exit(1);
      }
      stopping = true;
      progress(`${signal}: stopping`);
      wake();
    });
  }
  progress(`starting (run folder ${runDir})`);
  const stack = await startScaledStack({
    runDir,
    apiPort,
    notifierPort,
    edgeConfig: JSON.parse(env.EDGE_CONFIG_JSON ?? "{}"),
    onProgress: progress,
  });
  try {
    const envFile = join(runDir, "scaled.env");
    await writeFile(
      envFile,
      [
        `DATABASE_URL=${stack.databaseUrl}`,
        `S3_ENDPOINT=${stack.s3.endpoint}`,
        `S3_REGION=${stack.s3.region}`,
        `S3_BUCKET=${stack.s3.bucket}`,
        `S3_ACCESS_KEY_ID=${stack.s3.accessKeyId}`,
        `S3_SECRET_ACCESS_KEY=${stack.s3.secretAccessKey}`,
        `KAFKA_BROKERS=${stack.kafkaBrokers.join(",")}`,
        `REDIS_URL=${stack.redisUrl}`,
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    if (!stopping) {
      console.log(
        [
          "",
          "wsync (scaled) is running on this machine.",
          "",
          `  edge API    ${stack.apiUrl}    nginx -> ${stack.apis.map((a) => `${a.url} (pid ${a.pid()})`).join(", ")}`,
          `  notifier    ${stack.notifierUrl}    nginx -> ${stack.notifiers.map((n) => `${n.url} (pid ${n.pid()})`).join(", ")}`,
          `  PostgreSQL  ${stack.databaseUrl}`,
          `  S3 store    ${stack.s3.endpoint}, bucket ${stack.s3.bucket}    (Versity Gateway)`,
          `  Kafka       ${stack.kafkaBrokers.join(",")}, topic ${stack.kafkaTopic}`,
          `  Redis       ${stack.redisUrl}    (the edge API's shared cache)`,
          `  logs        ${runDir}/*.log, ${runDir}/*/`,
          `  settings    ${envFile}`,
          "",
          "Ctrl-C stops everything; the data goes with it.",
          "",
        ].join("\n"),
      );
      await stopRequested;
    }
  } finally {
    await stack.close();
    if (env.WSYNC_SCALED_KEEP !== "1") await rm(runDir, { recursive: true, force: true });
  }
  progress("stopped cleanly");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
