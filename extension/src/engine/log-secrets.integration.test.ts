import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient, type FetchLike } from "@wsync/shared-protocol";
import { leakedSecrets, startTestStack, type TestStack } from "@wsync/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSyncEngine, type SyncEngine } from "./engine.ts";
import { TEST_CHUNKING } from "./testing/devices.ts";

// Issue #8: "tokens and passwords never appear in logs". Everything an engine reports that ends up in
// a log (its "log" events, and its status, whose lastError the CLI and the extension print) is captured
// while it syncs, fails a request whose error quotes the request's headers (as some HTTP agents do),
// is refused a forged token (401), and is revoked while its WebSocket is open (4401).

let stack: TestStack;
let root: string;
const engines: SyncEngine[] = [];
const lines: string[] = [];
const password = `pw-${randomUUID()}`;

beforeAll(async () => {
  stack = await startTestStack();
  root = await mkdtemp(join(tmpdir(), "wsync-log-secrets-"));
}, 120_000);
afterAll(async () => {
  for (const engine of engines) await engine.stop().catch(() => {});
  await stack?.close();
  await rm(root, { recursive: true, force: true });
});

async function engineFor(name: string, token: string, deviceId: string, fetch?: FetchLike) {
  const folder = join(root, name, "folder");
  await mkdir(folder, { recursive: true });
  const engine = createSyncEngine({
    folder,
    stateDir: join(root, name, "state"),
    apiUrl: stack.apiUrl,
    notifierUrl: stack.notifierUrl,
    token,
    deviceId,
    deviceName: name,
    chunking: TEST_CHUNKING,
    watch: false,
    hashThreads: 0,
    ...(fetch ? { fetch } : {}),
  });
  engine.on("log", (entry) => lines.push(`${name} log ${JSON.stringify(entry)}`));
  engine.on("status", (status) => lines.push(`${name} status ${JSON.stringify(status)}`));
  engines.push(engine);
  return { engine, folder };
}

const until = async (check: () => boolean) => {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe("the engine's logs and status", () => {
  it("never carry a token or a password: sync, failed requests quoting their headers, 401, revocation", async () => {
    const anonymous = new ApiClient({ baseUrl: stack.apiUrl });
    const email = `logs-${randomUUID()}@example.com`;
    const one = await anonymous.register({ email, password, deviceName: "one" });
    const two = await anonymous.login({ email, password, deviceName: "two" });
    const forged = `${one.token.slice(0, -4)}AAAA`;

    // An HTTP agent whose errors quote the whole request, Authorization header included.
    let failing = false;
    const quotingFetch: FetchLike = (input, init) =>
      failing
        ? Promise.reject(
            new TypeError(`connect failed for ${init.method} ${input} ${JSON.stringify(init.headers)}`),
          )
        : fetch(input, init);
    const a = await engineFor("one", one.token, one.deviceId, quotingFetch);
    await a.engine.start();
    await writeFile(join(a.folder, "note.txt"), "hello");
    await a.engine.syncNow();
    expect(a.engine.status().state).toBe("idle");

    failing = true;
    await writeFile(join(a.folder, "note.txt"), "hello again");
    await a.engine.syncNow();
    expect(a.engine.status().state).toBe("offline");
    expect(a.engine.status().lastError?.message).toContain("connect failed");
    failing = false;
    await a.engine.syncNow();
    expect(a.engine.status().state).toBe("idle");

    // A forged token: refused (401) by the API and the notifier.
    const refused = await engineFor("forged", forged, one.deviceId);
    await refused.engine.start();
    await until(() => refused.engine.status().state === "unauthorized");

    // Revoked while its WebSocket is open: 4401.
    const b = await engineFor("two", two.token, two.deviceId);
    await b.engine.start();
    await until(() => b.engine.status().notifications === "connected");
    await anonymous.withToken(one.token).revokeDevice(two.deviceId);
    await until(() => b.engine.status().state === "unauthorized");

    expect(
      leakedSecrets(lines, { "token one": one.token, "token two": two.token, forged, password }),
    ).toEqual([]);
    // The failing requests were reported, with the token scrubbed out of them.
    expect(lines.some((line) => line.includes("connect failed") && line.includes("[redacted]"))).toBe(true);
  });
});
