#!/usr/bin/env node
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { stdin, stdout } from "node:process";
import { createInterface } from "node:readline/promises";
import { ApiClient, isApiError, NOTIFIER_DEFAULTS } from "@wsync/shared-protocol";
import { Command, InvalidArgumentError } from "commander";
import { createSyncEngine, type EngineStatus, enableGarbagePacing } from "../engine/index.ts";
import { defaultConfigDir, readLogin, stateDirFor, writeLogin } from "./config.ts";

const program = new Command()
  .name("wsync")
  .description("Keep a folder in sync across your machines (the same engine as the VS Code extension).")
  .option("--config-dir <dir>", "where the login and per-folder state live", defaultConfigDir());

const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer");
  return n;
};

async function askPassword(): Promise<string> {
  if (process.env.WSYNC_PASSWORD) return process.env.WSYNC_PASSWORD;
  const rl = createInterface({ input: stdin, output: stdout, terminal: true });
  try {
    return await rl.question("Password: ");
  } finally {
    rl.close();
  }
}

program
  .command("login")
  .description("sign in (a new device each time) and remember the session")
  .requiredOption("--email <email>", "account email")
  .option("--server <url>", "the wsync API", NOTIFIER_DEFAULTS.apiUrl)
  .option("--notifier <url>", "the notifier (push of changes)", NOTIFIER_DEFAULTS.notifierUrl)
  .option("--device-name <name>", "this device's name, shown in history and conflicted copies", hostname())
  .option("--register", "create the account first")
  .action(
    async (options: {
      email: string;
      server: string;
      notifier: string;
      deviceName: string;
      register?: boolean;
    }) => {
      const configDir = program.opts<{ configDir: string }>().configDir;
      const password = await askPassword();
      const api = new ApiClient({ baseUrl: options.server });
      const body = { email: options.email, password, deviceName: options.deviceName };
      const session = options.register ? await api.register(body) : await api.login(body);
      await writeLogin(configDir, {
        ...session,
        apiUrl: options.server,
        notifierUrl: options.notifier,
        email: options.email,
        deviceName: options.deviceName,
      });
      console.log(`signed in as ${options.email} (device ${options.deviceName})`);
    },
  );

program
  .command("sync")
  .description("sync a folder and keep watching it until interrupted")
  .argument("<folder>", "the folder to keep in sync")
  .option("--once", "sync once and exit instead of watching")
  .option("--state-dir <dir>", "where this folder's sync state lives (default: under the config dir)")
  .option("--concurrency <n>", "chunks transferred at once", positive, 4)
  .option("--ignore <pattern...>", "more patterns not to sync (.gitignore syntax)")
  .option("--fixed-chunks", "fixed 4 MiB chunks instead of content-defined ones (for comparisons)")
  .action(
    async (
      folderArg: string,
      options: {
        once?: boolean;
        stateDir?: string;
        concurrency: number;
        ignore?: string[];
        fixedChunks?: boolean;
      },
    ) => {
      const configDir = program.opts<{ configDir: string }>().configDir;
      const login = await readLogin(configDir);
      if (!login) throw new Error("not signed in: run `wsync login --email <email>` first");
      const folder = resolve(folderArg);
      await mkdir(folder, { recursive: true });
      const stateDir = options.stateDir ? resolve(options.stateDir) : stateDirFor(configDir, folder);
      // The CLI owns its process: it may pace V8's collections, which bounds a big download's memory.
      enableGarbagePacing();
      const engine = createSyncEngine({
        folder,
        stateDir,
        apiUrl: login.apiUrl,
        ...(login.notifierUrl && !options.once ? { notifierUrl: login.notifierUrl } : {}),
        token: login.token,
        deviceId: login.deviceId,
        deviceName: login.deviceName,
        concurrency: options.concurrency,
        ...(options.ignore ? { ignorePatterns: options.ignore } : {}),
        ...(options.fixedChunks
          ? { chunking: { mode: "fixed", sizes: { min: 4 << 20, avg: 4 << 20, max: 4 << 20 } } }
          : {}),
        watch: !options.once,
      });
      const statusFile = join(stateDir, "status.json");
      const saveStatus = (status: EngineStatus) =>
        writeFile(statusFile, JSON.stringify({ folder, pid: process.pid, ...status }, null, 2)).catch(
          () => {},
        );
      engine.on("status", (status) => {
        void saveStatus(status);
        if (status.state === "unauthorized") console.error("the server refused this device: sign in again");
      });
      engine.on("conflict", (c) =>
        console.log(`conflict: kept this device's version of ${c.path} as ${c.copyPath}`),
      );
      engine.on("synced", ({ paths }) => console.log(`synced ${paths.length} change(s)`));
      engine.on("log", (entry) => {
        if (entry.level === "warn" || entry.level === "error")
          console.error(`${entry.level}: ${entry.message}`);
      });
      await engine.start();
      const status = engine.status();
      for (const skipped of status.skipped) console.log(`not synced: ${skipped.path} (${skipped.reason})`);
      if (options.once) {
        await engine.syncNow();
        await saveStatus(engine.status());
        await engine.stop();
        if (engine.status().lastError) process.exitCode = 1;
        return;
      }
      console.log(`watching ${folder} (Ctrl-C to stop)`);
      await new Promise<void>((done) => {
        const stop = () => void engine.stop().then(done);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    },
  );

program
  .command("status")
  .description("show the login and, for a folder, its last sync status")
  .argument("[folder]", "a synced folder")
  .option("--json", "machine-readable output")
  .action(async (folderArg: string | undefined, options: { json?: boolean }) => {
    const configDir = program.opts<{ configDir: string }>().configDir;
    const login = await readLogin(configDir);
    let folderStatus: unknown = null;
    if (folderArg) {
      const path = join(stateDirFor(configDir, resolve(folderArg)), "status.json");
      folderStatus = JSON.parse(await readFile(path, "utf8").catch(() => "null"));
    }
    let account: unknown = null;
    if (login) {
      account = await new ApiClient({ baseUrl: login.apiUrl, token: login.token })
        .me()
        .catch((error: unknown) => ({ error: isApiError(error) ? error.code : (error as Error).message }));
    }
    const report = {
      login: login ? { email: login.email, deviceName: login.deviceName, server: login.apiUrl } : null,
      account,
      folder: folderStatus,
    };
    if (options.json) {
      console.log(JSON.stringify(report, null, 2));
      return;
    }
    console.log(
      login ? `signed in as ${login.email} on ${login.apiUrl} (device ${login.deviceName})` : "not signed in",
    );
    if (account && typeof account === "object" && "storageUsed" in account) {
      const me = account as { storageUsed: number; storageQuota: number };
      console.log(`storage: ${me.storageUsed} of ${me.storageQuota} bytes`);
    }
    if (folderArg) {
      const status = folderStatus as (EngineStatus & { folder: string }) | null;
      if (!status) console.log(`${resolve(folderArg)} has not been synced on this machine`);
      else {
        console.log(`${status.folder}: ${status.state}, last sync ${status.lastSyncAt ?? "never"}`);
        if (status.lastError)
          console.log(`last error: ${status.lastError.code}: ${status.lastError.message}`);
        for (const skipped of status.skipped) console.log(`not synced: ${skipped.path} (${skipped.reason})`);
        for (const conflict of status.conflicts) console.log(`conflicted copy: ${conflict.copyPath}`);
      }
    }
  });

program.parseAsync().catch((error: unknown) => {
  console.error(isApiError(error) ? `${error.code}: ${error.message}` : (error as Error).message);
  process.exitCode = 1;
});
