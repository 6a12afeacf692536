import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres } from "@wsync/local-stack/embedded-postgres";
import { type S3Connection, startLocalS3 } from "@wsync/local-stack/local-s3";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** Superuser URL of a PostgreSQL server; each test file makes its own database on it. */
    adminDatabaseUrl: string;
    /** The run's S3-compatible store (no bucket); each test file makes its own bucket on it. */
    s3: S3Connection;
  }
}

/**
 * Starts the services tests need once per run. Real services win when the environment names them
 * (the stack suite sets DATABASE_URL and S3_ENDPOINT); otherwise embedded ones in temp folders.
 */
export default async function setup(project: TestProject) {
  const [database, s3] = await Promise.all([startDatabase(), startS3()]);
  project.provide("adminDatabaseUrl", database.url);
  project.provide("s3", s3.connection);
  return async () => {
    await Promise.all([database.stop(), s3.stop()]);
  };
}

async function startDatabase(): Promise<{ url: string; stop(): Promise<void> }> {
  const fromEnvironment = process.env.DATABASE_URL;
  if (fromEnvironment) return { url: fromEnvironment, stop: async () => {} };
  const dataDir = await mkdtemp(join(tmpdir(), "wsync-test-pg-"));
  const postgres = await startEmbeddedPostgres({ dataDir });
  return {
    url: postgres.url,
    async stop() {
      await postgres.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function startS3(): Promise<{ connection: S3Connection; stop(): Promise<void> }> {
  const env = process.env;
  if (env.S3_ENDPOINT) {
    if (!env.S3_ACCESS_KEY_ID || !env.S3_SECRET_ACCESS_KEY) {
      throw new Error("S3_ENDPOINT is set, so S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be too");
    }
    const connection = {
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION ?? "us-east-1",
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
    };
    return { connection, stop: async () => {} };
  }
  const dataDir = await mkdtemp(join(tmpdir(), "wsync-test-s3-"));
  const credentials = {
    accessKeyId: `AKID${randomBytes(8).toString("hex").toUpperCase()}`,
    secretAccessKey: randomBytes(20).toString("hex"),
  };
  const store = await startLocalS3({ dataDir, ...credentials });
  return {
    connection: { endpoint: store.endpoint, region: store.region, ...credentials },
    async stop() {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
