import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const run = promisify(execFile);
const moduleUrl = new URL("./embedded-postgres.ts", import.meta.url).href;

describe("embedded PostgreSQL", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "wsync-embedded-pg-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  // The package's exit hook used to end every such process with status 0: vitest runs with failed
  // tests exited 0.
  it("leaves the exit code a process sets alone, once its server has stopped", async () => {
    const script = `
      const { startEmbeddedPostgres } = await import(${JSON.stringify(moduleUrl)});
      const server = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dir)} });
      await server.stop();
      process.exitCode = 3;
    `;
    const outcome = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
    }).then(
      () => 0,
      (error: { code?: number }) => error.code,
    );
    expect(outcome).toBe(3);
  });

  it("detached: stops a server a crashed run left on the same folder, then starts its own", async () => {
    const { startEmbeddedPostgres } = await import("./embedded-postgres.ts");
    const postgres = (await import("postgres")).default;
    const leftover = await startEmbeddedPostgres({ dataDir: dir, detached: true });
    // Never stopped, as after kill -9 of npm start: the detached server outlives its starter.
    const server = await startEmbeddedPostgres({ dataDir: dir, detached: true });
    try {
      const old = postgres(leftover.url, { max: 1, connect_timeout: 2, onnotice: () => {} });
      await expect(old`SELECT 1`).rejects.toThrow();
      await old.end();
      const sql = postgres(server.url, { max: 1, onnotice: () => {} });
      expect(await sql`SELECT 1 AS one`).toEqual([{ one: 1 }]);
      await sql.end();
    } finally {
      await server.stop();
    }
  });

  it("stops a server on stop(), and stop() returns even when the server is already gone", async () => {
    const { startEmbeddedPostgres } = await import("./embedded-postgres.ts");
    const server = await startEmbeddedPostgres({ dataDir: dir });
    const postgres = (await import("postgres")).default;
    const sql = postgres(server.url, { max: 1, onnotice: () => {} });
    expect(await sql`SELECT 1 AS one`).toEqual([{ one: 1 }]);
    await sql.end();
    await server.stop();
    await server.stop();
    const after = postgres(server.url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    await expect(after`SELECT 1`).rejects.toThrow();
    await after.end();
  });
});
