import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ApiClient } from "@wsync/shared-protocol";
import postgres from "postgres";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freePort } from "./free-port.ts";
import { type LocalStack, startLocalStack } from "./local-stack.ts";

const status = async (url: string) => (await fetch(url)).status;
const refuses = (url: string) =>
  fetch(url).then(
    () => false,
    () => true,
  );

function s3Client(stack: LocalStack) {
  return new S3Client({
    endpoint: stack.s3.endpoint,
    region: stack.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey },
  });
}

describe("the local stack", () => {
  let dataDir: string;
  const running: LocalStack[] = [];
  const start = async (extra: Partial<Parameters<typeof startLocalStack>[0]> = {}) => {
    const stack = await startLocalStack({ dataDir, apiPort: 0, notifierPort: 0, quiet: true, ...extra });
    running.push(stack);
    return stack;
  };

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "wsync-local-stack-"));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((stack) => stack.close()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it("answers /healthz on the edge API and the notifier, and close() stops every part", async () => {
    const pgPort = await freePort();
    const stack = await start({ pgPort });
    expect(await status(`${stack.apiUrl}/healthz`)).toBe(200);
    expect(await status(`${stack.notifierUrl}/healthz`)).toBe(200);
    expect(stack.embedded).toEqual({ postgres: true, s3: true, bus: true });
    expect(new URL(stack.databaseUrl).pathname).toBe("/wsync");

    await stack.close();
    expect(await refuses(`${stack.apiUrl}/healthz`)).toBe(true);
    expect(await refuses(`${stack.notifierUrl}/healthz`)).toBe(true);
    expect(await refuses(stack.s3.endpoint)).toBe(true);
    const sql = postgres(stack.databaseUrl, { max: 1, connect_timeout: 2, onnotice: () => {} });
    await expect(sql`SELECT 1`).rejects.toThrow();
    await sql.end();
  });

  it("keeps accounts, rows and stored objects across a restart on the same data folder", async () => {
    const first = await start();
    const api = new ApiClient({ baseUrl: first.apiUrl });
    const credentials = {
      email: "restart@example.com",
      password: "correct horse battery",
      deviceName: "laptop",
    };
    const registered = await api.register(credentials);
    const sql = postgres(first.databaseUrl, { max: 1, onnotice: () => {} });
    await sql`CREATE TABLE restart_marker (note text)`;
    await sql`INSERT INTO restart_marker VALUES ('kept')`;
    await sql.end();
    await s3Client(first).send(
      new PutObjectCommand({ Bucket: first.s3.bucket, Key: "marker", Body: "kept bytes" }),
    );
    await first.close();

    const second = await start();
    const session = await new ApiClient({ baseUrl: second.apiUrl }).login(credentials);
    expect(session.userId).toBe(registered.userId);
    const again = postgres(second.databaseUrl, { max: 1, onnotice: () => {} });
    expect(await again`SELECT note FROM restart_marker`).toEqual([{ note: "kept" }]);
    await again.end();
    const object = await s3Client(second).send(
      new GetObjectCommand({ Bucket: second.s3.bucket, Key: "marker" }),
    );
    expect(await object.Body?.transformToString()).toBe("kept bytes");
  });

  it("refuses a second stack on the same data folder and leaves the first one serving", async () => {
    const first = await start();
    await expect(start()).rejects.toThrow("is in use by another local stack");
    expect(await status(`${first.apiUrl}/healthz`)).toBe(200);
  });

  it("stops the parts it started when a later part cannot start", async () => {
    const taken: Server = createServer();
    const apiPort = await new Promise<number>((resolve) =>
      taken.listen(0, "127.0.0.1", () => resolve((taken.address() as { port: number }).port)),
    );
    const pgPort = await freePort();
    const s3Port = await freePort();
    try {
      await expect(start({ apiPort, pgPort, s3Port })).rejects.toThrow(/EADDRINUSE/);
      expect(await refuses(`http://127.0.0.1:${s3Port}/`)).toBe(true);
      const sql = postgres(`postgres://postgres:postgres@127.0.0.1:${pgPort}/postgres`, {
        max: 1,
        connect_timeout: 2,
        onnotice: () => {},
      });
      await expect(sql`SELECT 1`).rejects.toThrow();
      await sql.end();
      // And the folder is free again.
      const stack = await start();
      expect(await status(`${stack.apiUrl}/healthz`)).toBe(200);
    } finally {
      taken.close();
    }
  });
});
