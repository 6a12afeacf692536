import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeApiSuite } from "@wsync/edge-api/testing/api-suite";
import { checkInvariants } from "@wsync/edge-api/testing/invariants";
import { ApiClient, ApiError } from "@wsync/shared-protocol";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { describeNotifierSuite } from "./notifier-suite.ts";
import { type ScaledStack, startScaledStack } from "./scaled-stack.ts";
import { signUpDevices, type Turbulence } from "./workload.ts";

/**
 * The scaled stack (two edge API instances, two notifiers, Redis, nginx) on the stack suite's
 * PostgreSQL, S3 store and Kafka: the API and notifier suites against it, then faults in the middle of
 * a run of concurrent uploads and commits from several devices.
 */
const env = process.env;
const services =
  env.DATABASE_URL && env.S3_ENDPOINT && env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY && env.KAFKA_BROKERS
    ? {
        postgresUrl: env.DATABASE_URL,
        s3: {
          endpoint: env.S3_ENDPOINT,
          region: env.S3_REGION ?? "us-east-1",
          accessKeyId: env.S3_ACCESS_KEY_ID,
          secretAccessKey: env.S3_SECRET_ACCESS_KEY,
        },
        kafkaBrokers: env.KAFKA_BROKERS.split(","),
      }
    : null;
if (!services)
  throw new Error("the scaled stack test needs the stack suite's DATABASE_URL, S3_* and KAFKA_BROKERS");

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected an ApiError");
}

const id = crypto.randomUUID().slice(0, 8);
let stack: Promise<ScaledStack> | undefined;
let runDir: string | undefined;
const scaled = () => {
  stack ??= (async () => {
    runDir = await mkdtemp(join(tmpdir(), "wsync-scaled-test-"));
    return startScaledStack({
      runDir,
      apiPort: 0,
      notifierPort: 0,
      services,
      database: `wsync_scaled_${id}`,
      bucket: `wsync-scaled-${id}`,
      kafkaTopic: `wsync.scaled.${id}`,
      edgeConfig: { rateLimits: { registerPerAddress: { limit: 10_000, windowSeconds: 60 } } },
    });
  })();
  return stack;
};
afterAll(async () => {
  await (await stack)?.close();
  if (runDir) await rm(runDir, { recursive: true, force: true });
}, 120_000);

describeApiSuite("the scaled stack (nginx, two instances)", async () => ({
  url: (await scaled()).apiUrl,
  close: async () => {},
}));

describeNotifierSuite("the scaled stack (nginx, two instances)", async () => {
  const s = await scaled();
  return { apiUrl: s.apiUrl, notifierUrl: s.notifierUrl };
});

describe("stateless instances", () => {
  it("the login limit counts across both instances, and a revocation on one is refused by the other at once", async () => {
    const s = await scaled();
    const [one, two] = s.apis.map((api) => new ApiClient({ baseUrl: api.url }));
    if (!one || !two) throw new Error("two instances expected");
    const email = `stateless-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const session = await one.register({ email, password: "correct horse battery", deviceName: "a" });
    const other = await two.login({ email, password: "correct horse battery", deviceName: "b" });
    await one.withToken(session.token).revokeDevice(other.deviceId);
    expect((await failure(two.withToken(other.token).me())).code).toBe("unauthorized");
    expect((await failure(one.withToken(other.token).me())).code).toBe("unauthorized");

    // Ten attempts per email per window (the default), spread over both instances; one login above.
    const attempts = Array.from({ length: 9 }, (_, i) =>
      failure((i % 2 ? one : two).login({ email, password: "wrong password!", deviceName: "x" })),
    );
    for (const attempt of await Promise.all(attempts)) expect(attempt.code).toBe("unauthorized");
    const limited = await failure(one.login({ email, password: "correct horse battery", deviceName: "c" }));
    expect(limited.code).toBe("rate_limited");
    expect(
      (await failure(two.login({ email, password: "correct horse battery", deviceName: "c" }))).code,
    ).toBe("rate_limited");
  });
});

describe("faults on the scaled stack", () => {
  it("kill -9 of an API instance, of a notifier instance, and Redis stopped, mid-run: every device converges, " +
    "every committed version is there once, no spurious conflict, every 5xx absorbed by a retry", async () => {
    const s = await scaled();
    const devices = await signUpDevices(s.apiUrl, s.notifierUrl, 2, 3);
    const turbulence: Turbulence = { absorbed: {}, failed: [], conflicts: 0 };
    let commits = 0;
    const faults: Promise<void>[] = [];
    const at = (count: number, fault: () => Promise<void>) => {
      if (commits === count) faults.push(fault());
    };
    const onCommit = () => {
      commits++;
      at(12, async () => {
        await s.apis[0]?.kill("SIGKILL");
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        await s.apis[0]?.start();
      });
      at(30, async () => {
        await s.notifiers[0]?.kill("SIGKILL");
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        await s.notifiers[0]?.start();
      });
      at(45, async () => {
        await s.redis.stop();
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        await s.redis.start();
      });
    };
    try {
      await Promise.all(devices.map((device) => device.run(2, 6, turbulence, onCommit)));
      await Promise.all(faults);
      expect(faults).toHaveLength(3);
      expect(turbulence.failed).toEqual([]);
      expect(turbulence.conflicts).toBe(0);

      const sql = postgres(s.databaseUrl, { max: 2, onnotice: () => {} });
      try {
        for (const device of devices) {
          for (const [fileId, version] of device.committed) {
            // Exactly versions 1..n, each once: no second version from a retried commit.
            const { versions } = await device.client.listVersions(fileId);
            expect(versions.map((v) => v.version)).toEqual(
              Array.from({ length: version }, (_, i) => version - i),
            );
          }
        }
        expect(await checkInvariants(sql)).toEqual([]);
        const conflicted = await sql`SELECT name FROM files WHERE name LIKE '%conflict%'`;
        expect(conflicted).toEqual([]);
      } finally {
        await sql.end({ timeout: 5 });
      }
      // Every device converges: its changes feed ends at its user's newest state, and its notifier
      // socket (reopened after the notifier died) was told of that state.
      for (const device of devices) {
        const truth = new Map<string, number>();
        for (const peer of devices)
          if (peer.name.startsWith(device.name.slice(0, 2)))
            for (const [f, v] of peer.committed) truth.set(f, v);
        let since: string | undefined;
        const seen = new Map<string, number>();
        for (;;) {
          const page = await device.client.changes({ ...(since ? { since } : {}), limit: 500 });
          for (const change of page.changes) seen.set(change.fileId, change.version);
          since = page.syncToken;
          if (!page.hasMore) break;
        }
        expect(seen).toEqual(truth);
        const finalToken = since as string;
        const deadline = Date.now() + 30_000;
        while (!device.tokensSeen.has(finalToken) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(device.tokensSeen.has(finalToken), `${device.name} was told of the final state`).toBe(true);
      }
      // Redis was really down while requests flowed, and the instances noticed it come back: an
      // instance says so on its first cache call after Redis returns, so keep making such calls
      // (file metadata reads go through the cache) until one has, rather than hoping one happened.
      const readLogs = async () =>
        (await Promise.all(s.apis.map((_, i) => readFile(join(s.runDir, `api-${i + 1}.log`), "utf8")))).join(
          "",
        );
      const probe = devices.find((device) => device.committed.size > 0);
      const probeFileId = probe ? [...probe.committed.keys()][0] : undefined;
      const recoveryDeadline = Date.now() + 30_000;
      let logs = await readLogs();
      while (!logs.includes("cache available again") && Date.now() < recoveryDeadline) {
        if (probe && probeFileId) await probe.client.getFile(probeFileId).catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, 250));
        logs = await readLogs();
      }
      expect(logs).toContain("cache unavailable: answering from PostgreSQL");
      expect(logs).toContain("cache available again");
      console.info(
        `faults run: ${commits} commits, answers absorbed by retries: ${JSON.stringify(turbulence.absorbed)}`,
      );
    } finally {
      await Promise.all(devices.map((device) => device.close()));
    }
  }, 240_000);
});
