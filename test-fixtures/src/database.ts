import { createScratchDatabase, type ScratchDatabase } from "@wsync/local-stack/scratch-database";
import { inject } from "vitest";

export type TestDatabase = ScratchDatabase;

/**
 * A fresh, empty database on the run's PostgreSQL server (embedded, or the real one the stack suite
 * names), so test files never see each other's rows and can run in parallel.
 */
export function createTestDatabase(): Promise<TestDatabase> {
  return createScratchDatabase(inject("adminDatabaseUrl"), "test");
}
