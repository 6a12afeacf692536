import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** scripts/stack: one script per real service, `provision | start RUN_DIR | stop RUN_DIR` (lib.sh). */
export const STACK_DIR = fileURLToPath(new URL("../../stack/", import.meta.url));

export type StackService = "postgres" | "versitygw" | "kafka" | "redis" | "nginx";

/** Runs `scripts/stack/<service>.sh ARGS...`; its progress lines go to `log`. */
export function runStackScript(
  service: StackService,
  args: readonly string[],
  log: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [join(STACK_DIR, `${service}.sh`), ...args], {
      stdio: ["ignore", "ignore", "pipe"],
      env,
    });
    let tail = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      tail = (tail + text).slice(-4000);
      for (const line of text.split("\n")) if (line.trim()) log(line.replace(/^\[stack\] /, ""));
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${service}.sh ${args[0]} exited with ${code}\n${tail}`)),
    );
  });
}

/** The variables a stack script's env file sets (`export K=V` lines, values shell-quoted). */
export function readStackEnvFile(file: string): Record<string, string> {
  const result = spawnSync("bash", ["-c", 'set -a; source "$1" >/dev/null; env -0', "bash", file], {
    encoding: "utf8",
    env: {},
  });
  if (result.status !== 0) throw new Error(`could not read ${file}: ${result.stderr}`);
  const values: Record<string, string> = {};
  for (const pair of result.stdout.split("\0")) {
    const at = pair.indexOf("=");
    const key = pair.slice(0, at);
    if (at > 0 && /^(DATABASE_URL|S3_\w+|KAFKA_\w+|REDIS_URL)$/.test(key)) values[key] = pair.slice(at + 1);
  }
  return values;
}
