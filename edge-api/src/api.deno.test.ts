import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestBucket, createTestDatabase } from "@wsync/test-fixtures";
import { afterAll } from "vitest";
import { describeApiSuite } from "./testing/api-suite.ts";

/** The same API suite against the Deno entry point (src/deno.ts under the `deno` npm package). */

const edgeApiDir = fileURLToPath(new URL("..", import.meta.url));
const denoBinary = join(dirname(createRequire(import.meta.url).resolve("deno/package.json")), "deno");
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

function waitForListening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const onData = (data: Buffer) => {
      output += data.toString();
      const match = /"msg":"edge API listening","url":"([^"]+)"/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (data: Buffer) => {
      output += data.toString();
    });
    child.once("exit", (code) => reject(new Error(`deno exited with ${code} before listening:\n${output}`)));
  });
}

describeApiSuite("Deno", async () => {
  const [database, bucket] = await Promise.all([createTestDatabase(), createTestBucket()]);
  cleanup.push(
    () => database.drop(),
    () => bucket.drop(),
  );
  const child = spawn(
    denoBinary,
    ["run", "--allow-env", "--allow-net", "--allow-read", "--allow-sys", "src/deno.ts"],
    {
      cwd: edgeApiDir,
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        S3_ENDPOINT: bucket.endpoint,
        S3_REGION: bucket.region,
        S3_BUCKET: bucket.bucket,
        S3_ACCESS_KEY_ID: bucket.accessKeyId,
        S3_SECRET_ACCESS_KEY: bucket.secretAccessKey,
        HOST: "127.0.0.1",
        PORT: "0",
        EDGE_CONFIG_JSON: JSON.stringify({
          maintenanceIntervalSeconds: 0,
          rateLimits: { registerPerAddress: { limit: 10_000, windowSeconds: 60 } },
        }),
        NO_COLOR: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const url = await waitForListening(child);
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
});
