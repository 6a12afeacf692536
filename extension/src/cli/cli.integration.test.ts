import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { leakedSecrets, startTestStack, type TestStack } from "@wsync/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const main = fileURLToPath(new URL("./main.ts", import.meta.url));

let stack: TestStack;
let root: string;
beforeAll(async () => {
  stack = await startTestStack();
  root = await mkdtemp(join(tmpdir(), "wsync-cli-"));
}, 120_000);
afterAll(async () => {
  await stack?.close();
  await rm(root, { recursive: true, force: true });
});

function cli(configDir: string, ...args: string[]) {
  return cliWith("a long enough password", configDir, ...args);
}

function cliWith(password: string, configDir: string, ...args: string[]) {
  return run(process.execPath, ["--import", "tsx", main, "--config-dir", configDir, ...args], {
    env: { ...process.env, WSYNC_PASSWORD: password },
  });
}

/** stdout and stderr of a run, whether it succeeded or failed. */
async function outputOf(running: Promise<{ stdout: string; stderr: string }>): Promise<string[]> {
  try {
    const { stdout, stderr } = await running;
    return [stdout, stderr];
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    return [failed.stdout ?? "", failed.stderr ?? "", failed.message];
  }
}

describe("wsync CLI", () => {
  it("logs in, syncs a folder from one machine to another, and reports status", async () => {
    const email = `cli-${randomUUID()}@example.com`;
    const [one, two] = [join(root, "one"), join(root, "two")];
    const server = ["--server", stack.apiUrl, "--notifier", stack.notifierUrl];
    await cli(
      join(one, "config"),
      "login",
      "--email",
      email,
      "--register",
      "--device-name",
      "one",
      ...server,
    );
    await cli(join(two, "config"), "login", "--email", email, "--device-name", "two", ...server);
    const { mkdir } = await import("node:fs/promises");
    await mkdir(join(one, "folder"), { recursive: true });
    await writeFile(join(one, "folder", "hello.txt"), "hello from the CLI");
    await cli(join(one, "config"), "sync", join(one, "folder"), "--once");
    await cli(join(two, "config"), "sync", join(two, "folder"), "--once");
    expect(await readFile(join(two, "folder", "hello.txt"), "utf8")).toBe("hello from the CLI");
    const { stdout } = await cli(join(two, "config"), "status", join(two, "folder"), "--json");
    const status = JSON.parse(stdout);
    expect(status.login.email).toBe(email);
    expect(status.account.userId).toBeDefined();
    expect(status.folder.state).toBe("stopped");
    expect(status.folder.lastSyncAt).not.toBeNull();
  });

  it("refuses to sync before login, with a clear message", async () => {
    await expect(
      cli(join(root, "nobody"), "sync", join(root, "nobody-folder"), "--once"),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining("not signed in"),
    });
  });

  it("never prints a token or a password: login, a wrong password, sync, status, a refused token", async () => {
    const password = `secret-${randomUUID()}`;
    const email = `cli-${randomUUID()}@example.com`;
    const config = join(root, "quiet", "config");
    const folder = join(root, "quiet", "folder");
    const server = ["--server", stack.apiUrl, "--notifier", stack.notifierUrl];
    const output: string[] = [];
    const say = async (running: Promise<{ stdout: string; stderr: string }>) =>
      output.push(...(await outputOf(running)));
    await say(
      cliWith(password, config, "login", "--email", email, "--register", "--device-name", "q", ...server),
    );
    const { token } = JSON.parse(await readFile(join(config, "login.json"), "utf8")) as { token: string };
    await say(
      cliWith(`${password}-wrong`, join(root, "quiet", "other"), "login", "--email", email, ...server),
    );
    const { mkdir } = await import("node:fs/promises");
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "a.txt"), "a");
    await say(cli(config, "sync", folder, "--once"));
    await say(cli(config, "status", folder));
    await say(cli(config, "status", folder, "--json"));
    // The stored token altered: every request is refused (401).
    const forged = `${token.slice(0, -4)}AAAA`;
    const login = JSON.parse(await readFile(join(config, "login.json"), "utf8"));
    await writeFile(join(config, "login.json"), JSON.stringify({ ...login, token: forged }));
    await writeFile(join(folder, "b.txt"), "b");
    await say(cli(config, "sync", folder, "--once"));
    await say(cli(config, "status", folder, "--json"));

    expect(output.join("\n")).toContain("unauthorized");
    expect(leakedSecrets(output, { token, forged, password, "wrong password": `${password}-wrong` })).toEqual(
      [],
    );
  });
});
