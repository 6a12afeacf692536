import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./database.ts";

describe("test databases", () => {
  let first: TestDatabase;
  let second: TestDatabase;
  beforeAll(async () => {
    [first, second] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  });
  afterAll(async () => {
    await Promise.all([first.drop(), second.drop()]);
  });

  it("gives each caller its own empty database on a real PostgreSQL", async () => {
    const a = postgres(first.url, { max: 1, onnotice: () => {} });
    const b = postgres(second.url, { max: 1, onnotice: () => {} });
    try {
      await a`CREATE TABLE marker (id int)`;
      const [{ exists }] = await b<[{ exists: boolean }]>`SELECT to_regclass('marker') IS NOT NULL AS exists`;
      expect(exists).toBe(false);
      const [{ version }] = await a<[{ version: string }]>`SELECT version()`;
      expect(version).toMatch(/^PostgreSQL \d+/);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });
});
