import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./free-port.ts";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

/** `npm start` in a process group of its own, as a terminal would run it. */
function npmStart(env: Record<string, string>): Started {
  // Embedded services only, even inside the stack suite, whose environment names real ones.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(DATABASE_URL|S3_\w+|KAFKA_BROKERS)$/.test(name)),
  );
  const child = spawn("npm", ["start"], {
    cwd: repoRoot,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...inherited, ...env },
  });
  let output = "";
  child.stdout?.on("data", (data) => {
    output += data;
  });
  child.stderr?.on("data", (data) => {
    output += data;
  });
  // "close", not "exit": it waits until every process holding the pipes (node, under npm) is gone.
  const exited = once(child, "close").then(() => {});
  return { child, output: () => output, exited };
}

/** What a terminal does on Ctrl-C: SIGINT to the whole foreground process group. */
function pressCtrlC(started: Started) {
  if (started.child.pid) process.kill(-started.child.pid, "SIGINT");
}

async function waitForHealth(url: string, started: Started, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ok) return;
    if (started.child.exitCode !== null) throw new Error(`npm start exited early:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer 200 in time:\n${started.output()}`);
}

describe("npm start", () => {
  let dataDir: string;
  let env: Record<string, string>;
  let apiUrl: string;
  let notifierUrl: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "wsync-npm-start-"));
    const [api, notifier] = [await freePort(), await freePort()];
    apiUrl = `http://127.0.0.1:${api}`;
    notifierUrl = `http://127.0.0.1:${notifier}`;
    env = {
      WSYNC_DATA_DIR: dataDir,
      WSYNC_API_PORT: String(api),
      WSYNC_NOTIFIER_PORT: String(notifier),
      WSYNC_S3_PORT: "0",
      WSYNC_PG_PORT: "0",
    };
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it("serves /healthz on both servers, prints where to point the extension, and stops cleanly on Ctrl-C, twice on the same data", async () => {
    for (const run of ["first start", "restart"]) {
      const started = npmStart(env);
      try {
        await waitForHealth(`${apiUrl}/healthz`, started);
        await waitForHealth(`${notifierUrl}/healthz`, started);
        expect(started.output(), run).toContain(`"wsync.serverUrl": "${apiUrl}"`);
        expect(started.output(), run).toContain(`"wsync.notifierUrl": "${notifierUrl}"`);
        const envFile = join(dataDir, "stack.env");
        expect((await stat(envFile)).mode & 0o777, "only the owner reads the keys").toBe(0o600);
        const settings = Object.fromEntries(
          (await readFile(envFile, "utf8"))
            .trim()
            .split("\n")
            .map((line) => line.split(/=(.*)/s).slice(0, 2)),
        );
        const sql = postgres(settings.DATABASE_URL, { max: 1, onnotice: () => {} });
        expect(await sql`SELECT current_database() AS name`).toEqual([{ name: "wsync" }]);
        await sql.end();
        expect((await fetch(settings.S3_ENDPOINT)).status, "S3 store without keys").toBe(403);
      } finally {
        pressCtrlC(started);
        await started.exited;
      }
      expect(started.output(), run).toContain("[wsync] stopped cleanly");
      expect(started.output(), run).not.toContain("failed");
      const refused = await fetch(`${apiUrl}/healthz`).then(
        () => false,
        () => true,
      );
      expect(refused, `${run}: the edge API still answers after Ctrl-C`).toBe(true);
      expect(existsSync(join(dataDir, "stack.env")), `${run}: stack.env left behind`).toBe(false);
    }
  }, 180_000);

  it("answers a bad setting with a clear message and exit status 2", async () => {
    const started = npmStart({ ...env, WSYNC_API_PORT: "eighty" });
    await started.exited;
    expect(started.output()).toContain("the edge API port must be a port number");
    expect(started.child.exitCode).toBe(2);
  });
});
