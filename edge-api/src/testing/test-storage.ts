import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@wsync/local-stack/free-port";
import type { S3Settings } from "../storage/s3-storage.ts";

export interface TestS3 {
  settings: S3Settings;
  close(): Promise<void>;
}

/**
 * A real S3 store with an empty bucket of its own for one test file: the store the environment names
 * (the stack suite sets S3_ENDPOINT and keys), else Versity Gateway (the stack suite's store) on a free
 * port and a temporary folder.
 * TODO(edge-api): switch to createTestBucket() from @wsync/test-fixtures once it lands.
 */
export async function startTestS3(): Promise<TestS3> {
  const env = process.env;
  if (env.S3_ENDPOINT && env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY) {
    const settings: S3Settings = {
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION ?? "us-east-1",
      bucket: `edge-test-${crypto.randomUUID().slice(0, 13)}`,
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
    };
    // The API creates the bucket at start; the stack suite throws the store away afterwards.
    return { settings, close: async () => {} };
  }
  const dir = await mkdtemp(join(tmpdir(), "wsync-edge-s3-"));
  const port = await freePort();
  const accessKeyId = `edge${crypto.randomUUID().slice(0, 8)}`;
  const secretAccessKey = crypto.randomUUID().replaceAll("-", "");
  const child = spawn(
    join(homedir(), ".cache/wsync/bin/versitygw"),
    ["--port", `127.0.0.1:${port}`, "--region", "us-east-1", "--quiet", "posix", dir],
    {
      env: { ...process.env, ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey },
      stdio: "ignore",
    },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    try {
      await fetch(endpoint);
      break;
    } catch (error) {
      if (attempt > 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    settings: { endpoint, region: "us-east-1", bucket: "wsync-chunks", accessKeyId, secretAccessKey },
    async close() {
      child.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
