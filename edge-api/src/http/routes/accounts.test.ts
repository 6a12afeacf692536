import { ApiError } from "@wsync/shared-protocol";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, unusedStorage } from "../../testing/harness.ts";
import { createApp } from "../app.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ storage: unusedStorage });
});
afterAll(() => h?.close());

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

describe("register and login", () => {
  it("register gives a user, a device and a token that works", async () => {
    const { client, userId, deviceId } = await h.signUp("Someone@Example.com");
    expect(await client.me()).toEqual({
      userId,
      email: "someone@example.com",
      storageQuota: 10 * 1024 ** 3,
      storageUsed: 0,
    });
    const { devices } = await client.listDevices();
    expect(devices).toEqual([
      expect.objectContaining({ deviceId, name: "laptop", current: true, lastSyncAt: null }),
    ]);
  });

  it("stores the password as PBKDF2-SHA256 with 600,000 iterations, never in clear", async () => {
    const { userId } = await h.signUp();
    const [row] = await h.sql`SELECT password_hash FROM users WHERE id = ${userId}`;
    expect(row?.password_hash).toMatch(/^pbkdf2-sha256\$600000\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(row?.password_hash).not.toContain("correct horse battery");
  });

  it("a password shorter than 8 characters is validation_failed", async () => {
    const error = await failure(
      h.client.register({ email: "short@example.com", password: "1234567", deviceName: "x" }),
    );
    expect(error.code).toBe("validation_failed");
    expect(error.details?.issues).toEqual([expect.objectContaining({ path: ["password"] })]);
  });

  it("two registers of one email at once: exactly one account, the other email_taken; login finds the one", async () => {
    const email = `both-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const register = (deviceName: string) =>
      h.client.register({ email, password: `password of ${deviceName}`, deviceName });
    const outcomes = await Promise.allSettled([register("one"), register("two")]);
    const made = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
    expect(made).toHaveLength(1);
    const lost = outcomes.find((o) => o.status === "rejected");
    expect(lost?.status === "rejected" && lost.reason).toMatchObject({ code: "email_taken" });
    const winner = (await h.client.withToken(made[0]?.token ?? "").listDevices()).devices[0]?.name ?? "";
    const session = await h.client.login({ email, password: `password of ${winner}`, deviceName: "again" });
    expect(session.userId).toBe(made[0]?.userId);
  });

  it("an email that exists, in any case, is email_taken", async () => {
    await h.signUp("taken@example.com");
    const error = await failure(
      h.client.register({ email: "TAKEN@example.com", password: "another password", deviceName: "x" }),
    );
    expect(error.code).toBe("email_taken");
    expect(error.status).toBe(409);
  });

  it("each login is a new device with its own token", async () => {
    const first = await h.signUp("login@example.com");
    const session = await h.client.login({
      email: "login@example.com",
      password: "correct horse battery",
      deviceName: "desktop",
    });
    expect(session.userId).toBe(first.userId);
    expect(session.deviceId).not.toBe(first.deviceId);
    expect(session.token).not.toBe(first.token);
    const { devices } = await h.client.withToken(session.token).listDevices();
    expect(devices.map((d) => [d.name, d.current])).toEqual([
      ["laptop", false],
      ["desktop", true],
    ]);
  });

  it("wrong password and unknown email are both unauthorized, alike", async () => {
    await h.signUp("wrong@example.com");
    const wrong = await failure(
      h.client.login({ email: "wrong@example.com", password: "not the password", deviceName: "x" }),
    );
    const unknown = await failure(
      h.client.login({ email: "nobody@example.com", password: "not the password", deviceName: "x" }),
    );
    expect([wrong.code, unknown.code]).toEqual(["unauthorized", "unauthorized"]);
    expect(wrong.message).toBe(unknown.message);
  });
});

describe("devices", () => {
  it("a revoked device's token stops working at once; the others keep working", async () => {
    const owner = await h.signUp("devices@example.com");
    const other = await h.client.login({
      email: "devices@example.com",
      password: "correct horse battery",
      deviceName: "old",
    });
    const otherClient = h.client.withToken(other.token);
    await otherClient.me();

    await owner.client.revokeDevice(other.deviceId);

    expect((await failure(otherClient.me())).code).toBe("unauthorized");
    expect((await failure(otherClient.listDevices())).status).toBe(401);
    expect((await owner.client.listDevices()).devices.map((d) => d.deviceId)).toEqual([owner.deviceId]);
  });

  it("a device of another user is not_found and stays valid", async () => {
    const alice = await h.signUp();
    const bob = await h.signUp();
    expect((await failure(bob.client.revokeDevice(alice.deviceId))).code).toBe("not_found");
    expect((await failure(bob.client.revokeDevice("not-a-uuid"))).code).toBe("not_found");
    await alice.client.me();
  });

  it("no token, a garbage token or a malformed header is unauthorized", async () => {
    const cases: Record<string, string>[] = [
      {},
      { authorization: "Bearer nope" },
      { authorization: "Basic abc" },
    ];
    for (const headers of cases) {
      const response = await h.app.request("/api/v1/me", { headers });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: { code: "unauthorized", message: expect.any(String) } });
    }
  });
});

describe("rate limits", () => {
  it("login beyond the per-email limit is rate_limited with Retry-After, held in the database", async () => {
    const limited = await createHarness({
      storage: unusedStorage,
      config: { rateLimits: { loginPerEmail: { limit: 3, windowSeconds: 600 } } },
    });
    try {
      const body = JSON.stringify({ email: "victim@example.com", password: "guess guess", deviceName: "x" });
      const attempt = () => limited.app.request("/api/v1/auth/login", { method: "POST", body });
      for (let i = 0; i < 3; i++) expect((await attempt()).status).toBe(401);
      const response = await attempt();
      expect(response.status).toBe(429);
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
      expect((await response.json()).error.code).toBe("rate_limited");
      const [row] =
        await limited.sql`SELECT hits FROM rate_limits WHERE bucket = 'login:email:victim@example.com'`;
      expect(row?.hits).toBe(4);
    } finally {
      await limited.close();
    }
  });

  it("the count is shared by every instance of the API on the database", async () => {
    const rule = { limit: 4, windowSeconds: 600 };
    const limited = await createHarness({
      storage: unusedStorage,
      config: { rateLimits: { loginPerEmail: rule } },
    });
    const otherSql = postgres(limited.databaseUrl, { max: 2, onnotice: () => {} });
    try {
      const otherInstance = createApp({ ...limited.deps, sql: otherSql });
      const body = JSON.stringify({ email: "shared@example.com", password: "guess guess", deviceName: "x" });
      const statuses: number[] = [];
      for (const app of [
        limited.app,
        otherInstance,
        limited.app,
        otherInstance,
        limited.app,
        otherInstance,
      ]) {
        statuses.push((await app.request("/api/v1/auth/login", { method: "POST", body })).status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    } finally {
      await otherSql.end();
      await limited.close();
    }
  });

  it("register beyond the per-address limit is rate_limited", async () => {
    const limited = await createHarness({
      storage: unusedStorage,
      config: { rateLimits: { registerPerAddress: { limit: 1, windowSeconds: 600 } } },
    });
    try {
      await limited.signUp();
      expect((await failure(limited.signUp())).code).toBe("rate_limited");
    } finally {
      await limited.close();
    }
  });
});

describe("request logs", () => {
  it("are one JSON object per request and never carry a token or a password", async () => {
    const { token } = await h.signUp("logs@example.com");
    await h.client.withToken(token).me();
    const text = h.logs.map((line) => JSON.stringify(line)).join("\n");
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.split(".")[3]);
    expect(text).not.toContain("correct horse battery");
    expect(h.logs).toContainEqual(
      expect.objectContaining({ msg: "request", method: "GET", path: "/api/v1/me", status: 200 }),
    );
  });
});
