import { readdir, readFile } from "node:fs/promises";
import postgres, { type Sql } from "postgres";

export interface Migration {
  /** The file name, e.g. `001_initial.sql`; its number orders it. */
  name: string;
  sql: string;
}

const migrationsDir = new URL("./migrations/", import.meta.url);
// Any constant will do; it only has to be the same for every instance that migrates this database.
const MIGRATION_LOCK = 7_152_026_001;

/** The numbered `.sql` files beside this module, in order. Startup code only, never the request path. */
export async function loadMigrations(): Promise<Migration[]> {
  const names = (await readdir(migrationsDir)).filter((name) => /^\d+_[\w-]+\.sql$/.test(name)).sort();
  return Promise.all(
    names.map(async (name) => ({ name, sql: await readFile(new URL(name, migrationsDir), "utf8") })),
  );
}

/**
 * Applies the migrations not applied yet, each in its own transaction under an advisory lock, so
 * instances that start together apply each one exactly once.
 */
export async function applyMigrations(sql: Sql, migrations: Migration[]): Promise<string[]> {
  const applied: string[] = [];
  for (const migration of migrations) {
    const ran = await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
      await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
        name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`;
      const [done] = await tx`SELECT 1 FROM schema_migrations WHERE name = ${migration.name}`;
      if (done) return false;
      await tx.unsafe(migration.sql);
      await tx`INSERT INTO schema_migrations (name) VALUES (${migration.name})`;
      return true;
    });
    if (ran) applied.push(migration.name);
  }
  return applied;
}

/** Brings the database at `databaseUrl` to the newest schema. */
export async function migrate(databaseUrl: string): Promise<void> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await applyMigrations(sql, await loadMigrations());
  } finally {
    await sql.end();
  }
}
