import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { EdgeConfigOverrides, S3Settings } from "@wsync/edge-api";

const nodeEntry = fileURLToPath(new URL("../../edge-api/src/node.ts", import.meta.url));

export interface EdgeApiProcess {
  url: string;
  child: ChildProcess;
  close(): Promise<void>;
}

/**
 * The edge API as its own process (edge-api/src/node.ts, configured from the environment), so a load
 * generator in this process does not share its event loop. Its request log (one JSON line per
 * request, as in production) is read and dropped.
 */
export function startEdgeApiProcess(options: {
  databaseUrl: string;
  s3: S3Settings;
  config?: EdgeConfigOverrides;
}): Promise<EdgeApiProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", nodeEntry], {
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      S3_ENDPOINT: options.s3.endpoint,
      S3_REGION: options.s3.region,
      S3_BUCKET: options.s3.bucket,
      S3_ACCESS_KEY_ID: options.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: options.s3.secretAccessKey,
      HOST: "127.0.0.1",
      PORT: "0",
      EDGE_CONFIG_JSON: JSON.stringify(options.config ?? {}),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };
  return new Promise((resolve, reject) => {
    let buffered = "";
    let listening = false;
    child.once("exit", (code) => {
      if (!listening) reject(new Error(`the edge API exited with ${code} before listening`));
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      if (listening) return;
      buffered += chunk.toString();
      for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === "edge API listening" && entry.url) {
            listening = true;
            buffered = "";
            resolve({ url: entry.url, child, close });
            return;
          }
        } catch {
          // Not JSON: a warning on stdout; ignored.
        }
      }
    });
  });
}
