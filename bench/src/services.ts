import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readStackEnvFile, runStackScript, type StackService } from "@wsync/local-stack/stack-scripts";

const SERVICES: StackService[] = ["postgres", "versitygw", "kafka"];

export interface RealServices {
  /** DATABASE_URL, S3_*, KAFKA_BROKERS as the stack scripts wrote them. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * PostgreSQL 15, Versity Gateway and Kafka 4.4.0 through the project's own stack scripts (the ones
 * the stack suite uses: scripts/stack/*.sh), on free loopback ports in a temp folder.
 */
export async function startRealServices(log: (line: string) => void): Promise<RealServices> {
  const runDir = await mkdtemp(join(tmpdir(), "wsync-bench-services-"));
  const started: StackService[] = [];
  const stop = async () => {
    for (const service of started.reverse()) {
      await runStackScript(service, ["stop", runDir], log).catch((error) =>
        log(`stopping ${service}: ${error}`),
      );
    }
    await rm(runDir, { recursive: true, force: true });
  };
  try {
    await Promise.all(SERVICES.map((service) => runStackScript(service, ["provision"], log)));
    // Counted as started before they are: stopping one that never came up is a no-op.
    started.push(...SERVICES);
    await Promise.all(SERVICES.map((service) => runStackScript(service, ["start", runDir], log)));
    const env = Object.assign(
      {},
      ...SERVICES.map((service) => readStackEnvFile(join(runDir, `${service}.env`))),
    );
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
