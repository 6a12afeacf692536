import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres } from "@wsync/local-stack/embedded-postgres";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** Superuser URL of a PostgreSQL server; each test file makes its own database on it. */
    adminDatabaseUrl: string;
  }
}

/**
 * Starts the services tests need once per run. Real services win when the environment names them
 * (the stack suite sets DATABASE_URL); otherwise an embedded PostgreSQL in a temp folder.
 */
export default async function setup(project: TestProject) {
  const fromEnvironment = process.env.DATABASE_URL;
  if (fromEnvironment) {
    project.provide("adminDatabaseUrl", fromEnvironment);
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), "wsync-test-pg-"));
  const postgres = await startEmbeddedPostgres({ dataDir });
  project.provide("adminDatabaseUrl", postgres.url);
  return async () => {
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
