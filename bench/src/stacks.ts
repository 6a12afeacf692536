import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { type LocalStack, startLocalStack } from "@wsync/local-stack/local-stack";
import { createScratchDatabase } from "@wsync/local-stack/scratch-database";
import { ApiClient } from "@wsync/shared-protocol";

export type StackKind = "local" | "real";

export interface BenchStack extends LocalStack {
  kind: StackKind;
  /** What runs where, for the report. */
  describe: string;
}

/** The real services' connection, from the environment the stack scripts write (scripts/stack/*.env). */
export function realServices() {
  const env = process.env;
  if (!env.DATABASE_URL || !env.S3_ENDPOINT || !env.S3_ACCESS_KEY_ID || !env.S3_SECRET_ACCESS_KEY)
    return null;
  return {
    databaseUrl: env.DATABASE_URL,
    s3: {
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION ?? "us-east-1",
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
    },
    kafkaBrokers: env.KAFKA_BROKERS ? env.KAFKA_BROKERS.split(",").map((b) => b.trim()) : [],
  };
}

export function s3Client(stack: Pick<LocalStack, "s3">): S3Client {
  return new S3Client({
    endpoint: stack.s3.endpoint,
    region: stack.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey },
  });
}

/** A database of its own on an admin URL; `drop` removes it. */
export function createDatabase(adminUrl: string) {
  return createScratchDatabase(adminUrl, "bench");
}

/** Deletes every object of the bucket, so a multi-GB run leaves nothing in the store. */
export async function emptyBucket(client: S3Client, bucket: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    const keys = (page.Contents ?? []).flatMap((object) => (object.Key ? [{ Key: object.Key }] : []));
    if (keys.length > 0)
      await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/**
 * The product's whole backend via startLocalStack: "local" is what `npm start` runs (embedded
 * PostgreSQL, embedded S3 store, in-process bus); "real" is the edge API and notifier in this process
 * on the real services the stack scripts started (PostgreSQL 15, Versity Gateway, Kafka), with a
 * database, bucket and topic of its own.
 */
export async function startBenchStack(kind: StackKind): Promise<BenchStack> {
  const id = randomUUID().replaceAll("-", "").slice(0, 12);
  const dataDir = await mkdtemp(join(tmpdir(), "wsync-bench-stack-"));
  const cleanups: (() => Promise<void>)[] = [() => rm(dataDir, { recursive: true, force: true })];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    if (kind === "local") {
      const stack = await startLocalStack({ dataDir, apiPort: 0, notifierPort: 0, quiet: true });
      return {
        ...stack,
        kind,
        describe: "local stack (embedded PostgreSQL, embedded S3 store, in-process bus)",
        async close() {
          await stack.close();
          await cleanUp();
        },
      };
    }
    const services = realServices();
    if (!services) throw new Error("the real stack needs DATABASE_URL and S3_* in the environment");
    const database = await createDatabase(services.databaseUrl);
    cleanups.push(() => database.drop());
    const bucket = `wsync-bench-${id}`;
    const stack = await startLocalStack({
      dataDir,
      apiPort: 0,
      notifierPort: 0,
      quiet: true,
      databaseUrl: database.url,
      s3: services.s3,
      bucket,
      ...(services.kafkaBrokers.length
        ? { kafkaBrokers: services.kafkaBrokers, kafkaTopic: `wsync-bench-${id}` }
        : {}),
    });
    const client = s3Client(stack);
    return {
      ...stack,
      kind,
      describe: `real stack (PostgreSQL 15, Versity Gateway S3, ${services.kafkaBrokers.length ? "Kafka" : "in-process bus"})`,
      async close() {
        await stack.close();
        await emptyBucket(client, bucket).catch(() => {});
        client.destroy();
        await cleanUp();
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** A new account and `devices` signed-in devices on it. */
export async function signIn(apiUrl: string, devices: number) {
  const client = new ApiClient({ baseUrl: apiUrl });
  const email = `bench-${randomUUID()}@example.com`;
  const password = "bench password";
  const sessions = [await client.register({ email, password, deviceName: "bench-a" })];
  for (let i = 1; i < devices; i++) {
    sessions.push(
      await client.login({ email, password, deviceName: `bench-${String.fromCharCode(97 + i)}` }),
    );
  }
  return sessions;
}

export interface StackProcess {
  apiUrl: string;
  notifierUrl: string;
  s3: LocalStack["s3"];
  describe: string;
  close(): Promise<void>;
}

/** startBenchStack in a child process (src/stack-process.ts). */
export function startStackProcess(kind: StackKind): Promise<StackProcess> {
  const entry = new URL("./stack-process.ts", import.meta.url).pathname;
  // BENCH_STACK_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"): to profile the servers.
  const nodeArgs = process.env.BENCH_STACK_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", entry, kind], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    // Closing stdin, not SIGTERM: embedded PostgreSQL's own signal handlers would end the child
    // before the stack stopped, leaving a detached PostgreSQL behind.
    child.stdin?.end();
    const timer = setTimeout(() => child.kill("SIGTERM"), 120_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    let buffered = "";
    child.once("exit", (code) => reject(new Error(`the ${kind} stack process exited with ${code}`)));
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const end = buffered.indexOf("\n");
      if (end < 0) return;
      try {
        resolve({ ...(JSON.parse(buffered.slice(0, end)) as Omit<StackProcess, "close">), close });
      } catch (error) {
        reject(error);
      }
    });
  });
}
