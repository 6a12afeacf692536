import { createHash, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { ApiClient, type ChunkHash, chunkHashFromDigest } from "@wsync/shared-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type KillableStack, startKillableStack } from "./killable-stack.ts";

// 100 simulated devices (20 accounts x 5 devices: an API client and a notifier WebSocket each) sync
// for two minutes against the real stack, the edge API and the notifier in processes of their own.
// Each device commits new content to its own files at a human-ish pace; every other device of the
// account must hear of every acknowledged commit. Results: no 5xx, no lost change, p99 latencies
// (written to WSYNC_LOAD_RESULTS as JSON when set; docs/benchmarks.md has a run's figures).

const USERS = 20;
const DEVICES_PER_USER = 5;
const DURATION_MS = Number(process.env.WSYNC_LOAD_MS ?? 120_000);

interface SimDevice {
  user: number;
  deviceId: string;
  api: ApiClient;
  socket: WebSocket;
  files: Array<{ fileId: string; version: number }>;
  /** `${fileId}@${version}` -> when the frame arrived */
  heard: Map<string, number>;
}

let stack: KillableStack;
const devices: SimDevice[] = [];
const serverErrors: string[] = [];

/** fetch that records every 5xx, whoever answered (edge API or the store). */
const countingFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  if (response.status >= 500)
    serverErrors.push(`${init?.method ?? "GET"} ${String(input)}: ${response.status}`);
  return response;
};

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function chunkOf(bytes: Uint8Array<ArrayBuffer>): Promise<ChunkHash> {
  return chunkHashFromDigest(new Uint8Array(createHash("sha256").update(bytes).digest()));
}

beforeAll(async () => {
  stack = await startKillableStack({
    // Sign-ins are not what is measured: cheap password hashing and no sign-in limits for 100 devices.
    edgeConfig: {
      passwordHashIterations: 1_000,
      rateLimits: {
        loginPerEmail: { limit: 1_000, windowSeconds: 60 },
        loginPerAddress: { limit: 1_000, windowSeconds: 60 },
        registerPerAddress: { limit: 1_000, windowSeconds: 60 },
      },
    },
  });
  const anonymous = new ApiClient({ baseUrl: stack.apiUrl, fetch: countingFetch });
  for (let user = 0; user < USERS; user++) {
    const email = `load-${user}-${crypto.randomUUID()}@example.com`;
    for (let d = 0; d < DEVICES_PER_USER; d++) {
      const body = { email, password: "correct horse battery", deviceName: `sim-${user}-${d}` };
      const session = d === 0 ? await anonymous.register(body) : await anonymous.login(body);
      const heard = new Map<string, number>();
      const socket = new WebSocket(`${stack.notifierUrl.replace("http", "ws")}/ws`, {
        headers: { authorization: `Bearer ${session.token}` },
      });
      socket.on("message", (data) => {
        const frame = JSON.parse(String(data)) as { type: string; fileId?: string; version?: number };
        if (frame.type === "changed") heard.set(`${frame.fileId}@${frame.version}`, performance.now());
      });
      await new Promise<void>((resolve, reject) => {
        socket.once("message", () => resolve());
        socket.once("error", reject);
      });
      devices.push({
        user,
        deviceId: session.deviceId,
        api: anonymous.withToken(session.token),
        socket,
        files: [],
        heard,
      });
    }
  }
}, 600_000);
afterAll(async () => {
  for (const device of devices) device.socket.terminate();
  await stack?.close();
}, 120_000);

describe("load", () => {
  it("100 devices for two minutes: no 5xx, every acknowledged commit heard by every other device of the account and listed once in the feed", async () => {
    const commits: Array<{ user: number; key: string; sentAt: number; ackedAt: number; by: SimDevice }> = [];
    const failures: string[] = [];
    const end = performance.now() + DURATION_MS;

    const run = async (device: SimDevice) => {
      // Spread the start, then one change every 1-3 s: about 50 commits/s over all devices.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 2_000));
      while (performance.now() < end) {
        try {
          const bytes = randomBytes(512 + Math.floor(Math.random() * 4096)) as Uint8Array<ArrayBuffer>;
          const hash = await chunkOf(bytes);
          const upload = await device.api.uploadUrl({ chunkHash: hash, size: bytes.length });
          if (upload.uploadUrl) {
            const put = await countingFetch(upload.uploadUrl, {
              method: "PUT",
              headers: upload.uploadHeaders ?? {},
              body: bytes,
            });
            if (!put.ok) throw new Error(`PUT ${put.status}`);
          }
          const sentAt = performance.now();
          let receipt: { fileId: string; version: number };
          const own = device.files.length < 3 ? undefined : device.files[Math.floor(Math.random() * 3)];
          if (own) {
            receipt = await device.api.commit(own.fileId, { version: own.version + 1, chunks: [hash] });
            own.version = receipt.version;
          } else {
            receipt = await device.api.createFile({
              parentId: null,
              name: `${device.deviceId}-${device.files.length}.txt`,
              isFolder: false,
              chunks: [hash],
            });
            device.files.push({ fileId: receipt.fileId, version: receipt.version });
          }
          const key = `${receipt.fileId}@${receipt.version}`;
          commits.push({ user: device.user, key, sentAt, ackedAt: performance.now(), by: device });
        } catch (error) {
          failures.push(String(error));
        }
        await new Promise((resolve) => setTimeout(resolve, 1_000 + Math.random() * 2_000));
      }
    };
    await Promise.all(devices.map(run));

    // Every acknowledged commit reaches every other device of its account (bounded wait).
    const listeners = (commit: (typeof commits)[number]) =>
      devices.filter((d) => d.user === commit.user && d !== commit.by);
    const unheard = () =>
      commits.flatMap((commit) =>
        listeners(commit)
          .filter((d) => !d.heard.has(commit.key))
          .map(() => commit.key),
      );
    const deadline = performance.now() + 60_000;
    while (unheard().length > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 250));

    const commitMs = commits.map((c) => c.ackedAt - c.sentAt);
    const notifyMs = commits.flatMap((c) =>
      listeners(c).flatMap((d) => {
        const at = d.heard.get(c.key);
        return at === undefined ? [] : [at - c.sentAt];
      }),
    );
    const results = {
      devices: devices.length,
      durationSeconds: DURATION_MS / 1000,
      commits: commits.length,
      commitsPerSecond: commits.length / (DURATION_MS / 1000),
      failedOperations: failures.length,
      serverErrors: serverErrors.length,
      commitMs: { p50: percentile(commitMs, 50), p99: percentile(commitMs, 99), max: Math.max(...commitMs) },
      notificationMs: {
        frames: notifyMs.length,
        p50: percentile(notifyMs, 50),
        p99: percentile(notifyMs, 99),
        max: Math.max(...notifyMs),
      },
    };
    console.log(JSON.stringify(results));
    if (process.env.WSYNC_LOAD_RESULTS)
      await writeFile(process.env.WSYNC_LOAD_RESULTS, JSON.stringify(results, null, 2));

    expect(serverErrors).toEqual([]);
    expect(failures).toEqual([]);
    expect(commits.length).toBeGreaterThan(devices.length);
    expect(unheard()).toEqual([]);

    // The feed of each account lists every acknowledged commit exactly once.
    for (let user = 0; user < USERS; user++) {
      const reader = devices.find((d) => d.user === user);
      if (!reader) continue;
      const seen: string[] = [];
      let since: string | undefined;
      for (;;) {
        const page = await reader.api.changes({ ...(since ? { since } : {}), limit: 1000 });
        seen.push(...page.changes.map((c) => `${c.fileId}@${c.version}`));
        since = page.syncToken;
        if (!page.hasMore) break;
      }
      const acked = commits.filter((c) => c.user === user).map((c) => c.key);
      expect(new Set(seen).size).toBe(seen.length);
      expect([...seen].sort()).toEqual([...acked].sort());
    }
  }, 900_000);
});
