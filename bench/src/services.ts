import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const STACK_DIR = fileURLToPath(new URL("../../scripts/stack/", import.meta.url));
const SERVICES = ["postgres", "versitygw", "kafka"] as const;

export interface RealServices {
  /** DATABASE_URL, S3_*, KAFKA_BROKERS as the stack scripts wrote them. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

function runScript(service: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [join(STACK_DIR, `${service}.sh`), ...args], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${service}.sh ${args[0]} exited with ${code}`)),
    );
  });
}

/** The variables an env file of the stack scripts sets (`export K=V` lines, values shell-quoted). */
function readEnvFile(file: string): Record<string, string> {
  const result = spawnSync("bash", ["-c", 'set -a; source "$1" >/dev/null; env -0', "bash", file], {
    encoding: "utf8",
    env: {},
  });
  if (result.status !== 0) throw new Error(`could not read ${file}: ${result.stderr}`);
  const values: Record<string, string> = {};
  for (const pair of result.stdout.split("\0")) {
    const at = pair.indexOf("=");
    const key = pair.slice(0, at);
    if (at > 0 && /^(DATABASE_URL|S3_\w+|KAFKA_\w+)$/.test(key)) values[key] = pair.slice(at + 1);
  }
  return values;
}

/**
 * PostgreSQL 15, Versity Gateway and Kafka 4.4.0 through the project's own stack scripts (the ones
 * the stack suite uses: scripts/stack/*.sh), on free loopback ports in a temp folder.
 */
export async function startRealServices(log: (line: string) => void): Promise<RealServices> {
  const runDir = await mkdtemp(join(tmpdir(), "wsync-bench-services-"));
  const started: string[] = [];
  const stop = async () => {
    for (const service of started.reverse()) {
      await runScript(service, ["stop", runDir]).catch((error) => log(`stopping ${service}: ${error}`));
    }
    await rm(runDir, { recursive: true, force: true });
  };
  try {
    await Promise.all(SERVICES.map((service) => runScript(service, ["provision"])));
    // Counted as started before they are: stopping one that never came up is a no-op.
    started.push(...SERVICES);
    await Promise.all(SERVICES.map((service) => runScript(service, ["start", runDir])));
    const env = Object.assign({}, ...SERVICES.map((service) => readEnvFile(join(runDir, `${service}.env`))));
    return { env, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** rsync is a reference of benchmark 2; on a fresh Debian machine it is installed here. */
export function ensureRsync(log: (line: string) => void): boolean {
  if (spawnSync("rsync", ["--version"]).status === 0) return true;
  if (spawnSync("apt-get", ["--version"]).status !== 0) return false;
  log("rsync is missing: apt-get install -y rsync");
  const sudo = process.getuid?.() === 0 ? [] : ["sudo"];
  const apt = (...args: string[]) =>
    spawnSync(sudo[0] ?? "apt-get", [...sudo.slice(1), ...(sudo.length ? ["apt-get"] : []), ...args], {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    }).status === 0;
  if (!apt("install", "-y", "-qq", "rsync")) {
    apt("update", "-qq");
    apt("install", "-y", "-qq", "rsync");
  }
  return spawnSync("rsync", ["--version"]).status === 0;
}
