import { type ChildProcess, execFile, spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "@wsync/local-stack/free-port";
import { e2eTools } from "./tools.ts";

const run = promisify(execFile);

export interface CodeServer {
  /** `http://127.0.0.1:PORT/?folder=FOLDER`: open it in the browser. */
  url: string;
  folder: string;
  /** The server's log so far (stdout and stderr), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface CodeServerOptions {
  /** The workspace folder VS Code opens. */
  folder: string;
  /** The .vsix to install. */
  vsix: string;
  /** User settings, merged over the ones every test needs. */
  settings?: Record<string, unknown>;
  /** Where to keep VS Code's logs (the extension's output channel among them) when it stops. */
  keepLogsIn?: string;
}

/**
 * A real VS Code (code-server) serving `folder`, with the extension installed, everything it writes
 * kept in a temporary home (user data, extensions, XDG folders) that stop() removes.
 */
export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const { node24Bin, codeServer } = e2eTools();
  const home = await mkdtemp(join(tmpdir(), "wsync-code-server-"));
  const userData = join(home, "user-data");
  const extensions = join(home, "extensions");
  await mkdir(join(userData, "User"), { recursive: true });
  await mkdir(join(userData, "Machine"), { recursive: true });
  const settings = JSON.stringify(
    {
      "security.workspace.trust.enabled": false,
      "workbench.startupEditor": "none",
      "workbench.tips.enabled": false,
      "workbench.enableExperiments": false,
      "telemetry.telemetryLevel": "off",
      "update.mode": "none",
      "extensions.autoUpdate": false,
      "extensions.autoCheckUpdates": false,
      "git.enabled": false,
      "files.autoSave": "off",
      "window.commandCenter": false,
      "chat.disableAIFeatures": true,
      "workbench.secondarySideBar.defaultVisibility": "hidden",
      "remote.autoForwardPorts": false,
      ...options.settings,
    },
    null,
    2,
  );
  // code-server is a remote window: machine-scoped settings come from Machine/, the rest from User/.
  await writeFile(join(userData, "User", "settings.json"), settings);
  await writeFile(join(userData, "Machine", "settings.json"), settings);
  await writeFile(join(home, "config.yaml"), "auth: none\ncert: false\n");
  const env = {
    ...process.env,
    PATH: `${node24Bin}:${process.env.PATH}`,
    HOME: home,
    XDG_CONFIG_HOME: join(home, "config"),
    XDG_DATA_HOME: join(home, "data"),
    XDG_CACHE_HOME: join(home, "cache"),
  };
  const common = [
    "--config",
    join(home, "config.yaml"),
    "--user-data-dir",
    userData,
    "--extensions-dir",
    extensions,
  ];
  await run(join(node24Bin, "node"), [codeServer, ...common, "--install-extension", options.vsix], {
    env,
    timeout: 120_000,
  });

  const port = await freePort();
  let log = "";
  const child = spawn(
    join(node24Bin, "node"),
    [
      codeServer,
      ...common,
      "--auth",
      "none",
      "--bind-addr",
      `127.0.0.1:${port}`,
      "--disable-telemetry",
      "--disable-update-check",
      "--disable-workspace-trust",
      "--disable-getting-started-override",
      "--ignore-last-opened",
      options.folder,
    ],
    // Its own process group, so stop() ends the extension hosts it forks too.
    { env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (data: Buffer) => {
    log += data.toString();
  });
  child.stderr?.on("data", (data: Buffer) => {
    log += data.toString();
  });

  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${base}/healthz`, child, () => log);
  } catch (error) {
    await killGroup(child);
    await rm(home, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `${base}/?folder=${encodeURIComponent(options.folder)}`,
    folder: options.folder,
    output: () => log,
    stop: async () => {
      await killGroup(child);
      if (options.keepLogsIn) {
        await cp(join(userData, "logs"), options.keepLogsIn, { recursive: true }).catch(() => {});
        await writeFile(join(options.keepLogsIn, "code-server.log"), log).catch(() => {});
      }
      await rm(home, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

async function waitForHttp(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}:\n${log()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`code-server did not answer at ${url} within 60 s:\n${log()}`);
}

async function killGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 5_000));
  if ((await Promise.race([exited, timeout])) === "timeout") {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}
