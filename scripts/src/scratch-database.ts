import { randomUUID } from "node:crypto";
import postgres from "postgres";

export interface ScratchDatabase {
  /** URL of a new, empty database of its own on the server. */
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh database on the server an admin URL names, for one test file or one benchmark run, so
 * runs never see each other's rows. `drop` removes it, closing whatever is still connected.
 */
export async function createScratchDatabase(adminUrl: string, prefix = "scratch"): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomUUID().replaceAll("-", "")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const cleanup = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await cleanup.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}
