import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startTestStack, type TestStack } from "@wsync/test-fixtures";
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
  return run(process.execPath, ["--import", "tsx", main, "--config-dir", configDir, ...args], {
    env: { ...process.env, WSYNC_PASSWORD: "a long enough password" },
  });
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
});
