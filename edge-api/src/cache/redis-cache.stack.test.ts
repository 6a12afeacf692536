import { type ChildProcess, spawn } from "node:child_process";
import { freePort } from "@wsync/local-stack/free-port";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeChunk, uploadChunk } from "../testing/chunks.ts";
import { createHarness, type Harness } from "../testing/harness.ts";
import { chunksKey } from "./metadata-cache.ts";
import { createRedisStore, type RedisStore } from "./redis-store.ts";

/**
 * The API on a real redis-server of its own (Debian's, provisioned by scripts/stack/redis.sh), which
 * this test stops, slows down and starts again under running requests.
 */
let port: number;
let server: ChildProcess | undefined;
let store: RedisStore;
let h: Harness;

async function startRedis() {
  server = spawn(
    "redis-server",
    ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
}
async function stopRedis() {
  const exited = new Promise((resolve) => server?.once("exit", resolve));
  server?.kill("SIGKILL");
  await exited;
}
const redisCli = (...args: string[]) =>
  new Promise<string>((resolve) => {
    const child = spawn("redis-cli", ["-p", String(port), ...args]);
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.once("exit", () => resolve(out.trim()));
  });

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  store = createRedisStore({
    url: `redis://127.0.0.1:${port}`,
    commandTimeoutMs: 100,
    log: (l) => h?.logs.push(l),
  });
  expect(await store.ready(5_000)).toBe(true);
  h = await createHarness({ storage: "s3", cacheStore: store, config: { cache: { timeoutMs: 100 } } });
});
afterAll(async () => {
  await h?.close();
  await store?.close();
  await stopRedis();
});

describe("the edge API on a real Redis", () => {
  it("caches in Redis; with Redis killed or asleep, every request is answered from PostgreSQL with a warning, no 5xx", async () => {
    const { client, userId } = await h.signUp();
    const first = await makeChunk("before redis goes");
    await uploadChunk(client, first);
    const file = await client.createFile({
      parentId: null,
      name: "r",
      isFolder: false,
      chunks: [first.hash],
    });
    expect(await redisCli("SISMEMBER", chunksKey(userId), first.hash)).toBe("1");

    await stopRedis();
    const second = await makeChunk("while redis is down");
    expect(await uploadChunk(client, second)).toBe(true);
    expect((await client.uploadUrl({ chunkHash: first.hash, size: first.bytes.length })).exists).toBe(true);
    await client.commit(file.fileId, { version: 2, chunks: [first.hash, second.hash] });
    expect(await client.getFile(file.fileId)).toMatchObject({
      version: 2,
      chunks: [first.hash, second.hash],
    });
    expect(h.logs).toContainEqual(
      expect.objectContaining({ level: "warn", msg: "cache unavailable: answering from PostgreSQL" }),
    );

    await startRedis();
    expect(await store.ready(10_000)).toBe(true);
    // Slow: the server sleeps through the cache's timeout; requests go on without it.
    const asleep = redisCli("DEBUG", "SLEEP", "2");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const third = await makeChunk("while redis sleeps");
    expect(await uploadChunk(client, third)).toBe(true);
    await client.commit(file.fileId, { version: 3, chunks: [third.hash] });
    expect((await client.getFile(file.fileId)).version).toBe(3);
    await asleep;

    // Back: the cache fills again.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await client.commit(file.fileId, { version: 4, chunks: [third.hash, first.hash] });
    expect(await redisCli("SISMEMBER", chunksKey(userId), third.hash)).toBe("1");
    expect(h.logs).toContainEqual(expect.objectContaining({ msg: "cache available again" }));
    expect(h.logs.filter((l) => l.msg === "request" && Number(l.status) >= 500)).toEqual([]);
  });
});
