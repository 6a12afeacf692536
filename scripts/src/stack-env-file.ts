import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LocalStack } from "./local-stack.ts";

/**
 * Where a running `npm start` writes its services' settings (DATABASE_URL, S3_*), in the variable
 * names the edge API's and the notifier's own entry points read: VS Code's "alone" launch configs load
 * it (envFile), and a shell can `set -a; . .data/stack.env` to reach the embedded services. Only the
 * owner may read it: it holds the embedded store's keys, which change at every start.
 */
export function stackEnvFilePath(dataDir: string): string {
  return join(dataDir, "stack.env");
}

export function stackEnvFileText(stack: Pick<LocalStack, "databaseUrl" | "s3">): string {
  const lines = {
    DATABASE_URL: stack.databaseUrl,
    S3_ENDPOINT: stack.s3.endpoint,
    S3_REGION: stack.s3.region,
    S3_BUCKET: stack.s3.bucket,
    S3_ACCESS_KEY_ID: stack.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: stack.s3.secretAccessKey,
  };
  return `${Object.entries(lines)
    .map(([name, value]) => `${name}=${value}`)
    .join("\n")}\n`;
}

export async function writeStackEnvFile(dataDir: string, stack: Pick<LocalStack, "databaseUrl" | "s3">) {
  const file = stackEnvFilePath(dataDir);
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, stackEnvFileText(stack), { mode: 0o600 });
  return { file, remove: () => rm(file, { force: true }) };
}
