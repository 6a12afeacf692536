import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RunningLocalS3, startLocalS3 } from "./index.ts";
import { createScratchBucket, type ScratchBucket, s3ClientFor } from "./test-bucket.ts";

// What the embedded store does beyond the shared contract: behaviour S3 has that Versity Gateway is not
// asked to show here (restarts, cut-off connections, 100-continue...), checked on the store itself.
const credentials = { accessKeyId: "AKIDEMBEDDED", secretAccessKey: "embedded-secret" };
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("base64");

let dataDir: string;
let store: RunningLocalS3;
let bucket: ScratchBucket;
let client: S3Client;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "wsync-local-s3-only-"));
  store = await startLocalS3({ dataDir, ...credentials });
  bucket = await createScratchBucket({ endpoint: store.endpoint, region: store.region, ...credentials });
  client = s3ClientFor(bucket);
});
afterAll(async () => {
  client?.destroy();
  await store?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const presignPut = (key: string, body: Uint8Array) =>
  getSignedUrl(
    client,
    new PutObjectCommand({
      Bucket: bucket.bucket,
      Key: key,
      ChecksumSHA256: sha256(body),
      ContentLength: body.length,
    }),
    {
      expiresIn: 300,
      signableHeaders: new Set(["x-amz-checksum-sha256", "content-length"]),
      unhoistableHeaders: new Set(["x-amz-checksum-sha256"]),
    },
  );
const bytesOf = async (key: string) => {
  const object = await client.send(new GetObjectCommand({ Bucket: bucket.bucket, Key: key }));
  return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
};
const failureOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => ({ name: "succeeded", status: 200 }),
    (error: { name?: string; $metadata?: { httpStatusCode?: number } }) => ({
      name: error.name,
      status: error.$metadata?.httpStatusCode,
    }),
  );

describe("the embedded store, beyond the contract", () => {
  it("keeps nothing of a body whose connection is cut off, and the old object stays intact", async () => {
    const key = "cut-off";
    const old = randomBytes(5000);
    await client.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: key, Body: old }));
    const body = randomBytes(5000);
    const url = new URL(await presignPut(key, body));
    const socket = connect(Number(url.port), url.hostname);
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(
      `PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\ncontent-length: 5000\r\n` +
        `x-amz-checksum-sha256: ${sha256(body)}\r\n\r\n`,
    );
    socket.write(body.subarray(0, 2500));
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    await vi.waitFor(async () => expect(await readdir(join(dataDir, "tmp"))).toEqual([]));
    expect((await bytesOf(key)).equals(old)).toBe(true);
  });

  it("refuses a header-signed PUT whose body is not the one its x-amz-content-sha256 signed", async () => {
    const tampering = s3ClientFor(bucket, { requestChecksumCalculation: "WHEN_REQUIRED" });
    // After signing, before sending: swap the body for other bytes of the same length.
    tampering.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { body: unknown }).body = Buffer.from("HELLO");
        return next(args);
      },
      { step: "deserialize", name: "swapBody" },
    );
    try {
      const put = tampering.send(
        new PutObjectCommand({ Bucket: bucket.bucket, Key: "tampered", Body: "hello" }),
      );
      expect(await failureOf(put)).toEqual({ name: "XAmzContentSHA256Mismatch", status: 400 });
      expect(
        await failureOf(client.send(new HeadObjectCommand({ Bucket: bucket.bucket, Key: "tampered" }))),
      ).toEqual({ name: "NotFound", status: 404 });
    } finally {
      tampering.destroy();
    }
  });

  it("answers Expect: 100-continue with 403 before the body when the signature is bad, 100 then 200 when good", async () => {
    const body = randomBytes(1000);
    const url = await presignPut("continue", body);
    const attempt = (target: string) =>
      new Promise<{ continued: boolean; status: number }>((resolve, reject) => {
        let continued = false;
        const req = request(target, {
          method: "PUT",
          headers: { expect: "100-continue", "content-length": 1000, "x-amz-checksum-sha256": sha256(body) },
        });
        req.on("continue", () => {
          continued = true;
          req.end(body);
        });
        req.on("response", (res) => {
          res.resume();
          res.on("end", () => resolve({ continued, status: res.statusCode ?? 0 }));
        });
        req.on("error", reject);
        req.flushHeaders();
      });
    const tampered = url.replace(
      /X-Amz-Signature=([0-9a-f])/,
      (_all, c: string) => `X-Amz-Signature=${c === "0" ? "1" : "0"}`,
    );
    expect(await attempt(tampered)).toEqual({ continued: false, status: 403 });
    expect(await attempt(url)).toEqual({ continued: true, status: 200 });
  });

  it("refuses an x-amz header the presigned URL did not sign", async () => {
    const body = randomBytes(10);
    const response = await fetch(await presignPut("unsigned-header", body), {
      method: "PUT",
      body,
      headers: { "x-amz-checksum-sha256": sha256(body), "x-amz-meta-sneaky": "1" },
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("<Code>AccessDenied</Code>");
  });

  it("refuses an anonymous request with 403 AccessDenied", async () => {
    const response = await fetch(`${store.endpoint}/${bucket.bucket}/anything`);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("<Code>AccessDenied</Code>");
  });

  it("does not overwrite with If-None-Match: * (412), and writes when the key is new", async () => {
    await client.send(
      new PutObjectCommand({ Bucket: bucket.bucket, Key: "once", Body: "first", IfNoneMatch: "*" }),
    );
    const again = client.send(
      new PutObjectCommand({ Bucket: bucket.bucket, Key: "once", Body: "second", IfNoneMatch: "*" }),
    );
    expect(await failureOf(again)).toEqual({ name: "PreconditionFailed", status: 412 });
    expect((await bytesOf("once")).toString()).toBe("first");
  });

  it("answers 501 NotImplemented for S3 operations it does not have, instead of doing something else", async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: "source", Body: "x" }));
    const copy = client.send(
      new CopyObjectCommand({ Bucket: bucket.bucket, Key: "copy", CopySource: `${bucket.bucket}/source` }),
    );
    expect(await failureOf(copy)).toEqual({ name: "NotImplemented", status: 501 });
    const multipart = client.send(new CreateMultipartUploadCommand({ Bucket: bucket.bucket, Key: "big" }));
    expect(await failureOf(multipart)).toEqual({ name: "NotImplemented", status: 501 });
  });

  it("checks CRC32 and CRC32C trailers of streamed uploads and returns them with ChecksumMode", async () => {
    const streaming = s3ClientFor(bucket, { requestStreamBufferSize: 64 * 1024 });
    try {
      for (const algorithm of ["CRC32", "CRC32C"] as const) {
        const key = `trailer-${algorithm}`;
        const parts = [randomBytes(20_000), randomBytes(30_000)];
        await streaming.send(
          new PutObjectCommand({
            Bucket: bucket.bucket,
            Key: key,
            Body: Readable.from(parts),
            ContentLength: 50_000,
            ChecksumAlgorithm: algorithm,
          }),
        );
        const head = await client.send(
          new HeadObjectCommand({ Bucket: bucket.bucket, Key: key, ChecksumMode: "ENABLED" }),
        );
        expect(head[`Checksum${algorithm}`]).toMatch(/^[A-Za-z0-9+/]{6}==$/);
        expect((await bytesOf(key)).equals(Buffer.concat(parts))).toBe(true);
      }
    } finally {
      streaming.destroy();
    }
  });

  it("leaves exactly one whole upload when many clients write one key at once", async () => {
    const bodies = Array.from({ length: 6 }, () => randomBytes(256 * 1024));
    await Promise.all(
      bodies.map((body) =>
        client.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: "contended", Body: body })),
      ),
    );
    const final = await bytesOf("contended");
    expect(bodies.some((body) => body.equals(final))).toBe(true);
  });

  it("serves what it stored after a restart on the same data folder", async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: "durable", Body: "still here" }));
    await store.close();
    store = await startLocalS3({ dataDir, ...credentials });
    const reopened = s3ClientFor({ ...bucket, endpoint: store.endpoint });
    try {
      const object = await reopened.send(new GetObjectCommand({ Bucket: bucket.bucket, Key: "durable" }));
      expect(await object.Body?.transformToString()).toBe("still here");
    } finally {
      reopened.destroy();
    }
  });
});
