import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ScratchBucket, s3ClientFor } from "./test-bucket.ts";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("base64");
const MiB = 1024 * 1024;

interface Reply {
  status: number;
  code?: string;
  body: Buffer;
  headers: Headers;
}

/**
 * The S3 behaviour this system relies on, as one suite: registered against the embedded store in
 * `npm test` and against Versity Gateway in the stack suite, so the two are shown to behave alike.
 * `connect` gives a fresh, empty bucket; the suite drops it at the end.
 */
export function s3Contract(connect: () => Promise<ScratchBucket>): void {
  let target: ScratchBucket;
  let client: S3Client;
  beforeAll(async () => {
    target = await connect();
    client = s3ClientFor(target);
  });
  afterAll(async () => {
    client?.destroy();
    await target?.drop();
  });

  const newKey = (name: string) => `contract/${name}/${randomBytes(6).toString("hex")}`;

  /** How the edge API presigns an upload: checksum and length are signed headers the client must send. */
  const presignPut = (
    key: string,
    body: Uint8Array,
    options: { signingDate?: Date; expiresIn?: number } = {},
  ) =>
    getSignedUrl(
      client,
      new PutObjectCommand({
        Bucket: target.bucket,
        Key: key,
        ChecksumSHA256: sha256(body),
        ContentLength: body.length,
      }),
      {
        expiresIn: options.expiresIn ?? 300,
        signingDate: options.signingDate,
        signableHeaders: new Set(["x-amz-checksum-sha256", "content-length"]),
        unhoistableHeaders: new Set(["x-amz-checksum-sha256"]),
      },
    );
  const presignGet = (key: string, options: { signingDate?: Date } = {}) =>
    getSignedUrl(client, new GetObjectCommand({ Bucket: target.bucket, Key: key }), {
      expiresIn: 300,
      ...options,
    });

  /** A plain HTTP request, as the extension sends to a presigned URL. */
  const send = async (
    url: string,
    init: { method: string; headers?: Record<string, string>; body?: Uint8Array },
  ) => {
    // (A copy into a plain ArrayBuffer-backed array: what fetch's types accept.)
    const body = init.body && new Uint8Array(init.body);
    const response = await fetch(url, { method: init.method, headers: init.headers, body });
    const reply = Buffer.from(await response.arrayBuffer());
    const code = /<Code>([^<]*)<\/Code>/.exec(reply.toString("utf8"))?.[1];
    return { status: response.status, code, body: reply, headers: response.headers } satisfies Reply;
  };
  const putWith = (url: string, body: Uint8Array, checksum: string | undefined) =>
    send(url, {
      method: "PUT",
      body,
      headers: checksum === undefined ? {} : { "x-amz-checksum-sha256": checksum },
    });

  /** The stored bytes, or undefined when the key has no object. */
  const stored = async (key: string): Promise<Buffer | undefined> => {
    try {
      const object = await client.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
      return Buffer.from(await (object.Body as NonNullable<typeof object.Body>).transformToByteArray());
    } catch (error) {
      if ((error as { name?: string }).name === "NoSuchKey") return undefined;
      throw error;
    }
  };
  const sdkError = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      const failure = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      return { name: failure.name, status: failure.$metadata?.httpStatusCode };
    }
    throw new Error("the request succeeded");
  };
  const withOneCharacterChanged = (url: string) =>
    url.replace(
      /X-Amz-Signature=([0-9a-f])/,
      (_all, first: string) => `X-Amz-Signature=${first === "0" ? "1" : "0"}`,
    );

  describe("presigned PUT", () => {
    it("stores a body that matches the signed checksum (200), readable by presigned GET and HEAD", async () => {
      const key = newKey("right-body");
      const body = randomBytes(1000);
      const put = await putWith(await presignPut(key, body), body, sha256(body));
      expect(put.status).toBe(200);
      const get = await send(await presignGet(key), { method: "GET" });
      expect(get.status).toBe(200);
      expect(get.body.equals(body)).toBe(true);
      const headUrl = await getSignedUrl(client, new HeadObjectCommand({ Bucket: target.bucket, Key: key }), {
        expiresIn: 300,
      });
      const head = await send(headUrl, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("content-length")).toBe("1000");
    });

    it("refuses same-length wrong bytes with 400 BadDigest and stores nothing", async () => {
      const key = newKey("wrong-bytes");
      const body = randomBytes(1000);
      const forged = Buffer.from(body);
      forged[500] = (forged[500] ?? 0) ^ 1;
      const put = await putWith(await presignPut(key, body), forged, sha256(body));
      expect(put).toMatchObject({ status: 400, code: "BadDigest" });
      expect(await stored(key)).toBeUndefined();
    });

    it("refuses wrong bytes over an existing object with 400 BadDigest and keeps the old object intact", async () => {
      const key = newKey("overwrite");
      const original = randomBytes(1000);
      expect((await putWith(await presignPut(key, original), original, sha256(original))).status).toBe(200);
      const replacement = randomBytes(1000);
      const put = await putWith(await presignPut(key, replacement), randomBytes(1000), sha256(replacement));
      expect(put).toMatchObject({ status: 400, code: "BadDigest" });
      expect((await stored(key))?.equals(original)).toBe(true);
    });

    it("refuses a body longer or shorter than the signed content-length with 403 and stores nothing", async () => {
      const key = newKey("length");
      const body = randomBytes(1000);
      const url = await presignPut(key, body);
      const longer = Buffer.concat([body, Buffer.from("x")]);
      expect((await putWith(url, longer, sha256(body))).status).toBe(403);
      expect((await putWith(url, body.subarray(0, 999), sha256(body))).status).toBe(403);
      expect(await stored(key)).toBeUndefined();
    });

    it("refuses an upload that leaves out the signed checksum header with 403", async () => {
      const key = newKey("no-checksum");
      const body = randomBytes(100);
      expect((await putWith(await presignPut(key, body), body, undefined)).status).toBe(403);
      expect(await stored(key)).toBeUndefined();
    });

    it("refuses a URL with one character of its signature changed with 403", async () => {
      const key = newKey("tampered");
      const body = randomBytes(100);
      const put = await putWith(withOneCharacterChanged(await presignPut(key, body)), body, sha256(body));
      expect(put).toMatchObject({ status: 403, code: "SignatureDoesNotMatch" });
      expect(await stored(key)).toBeUndefined();
    });

    it("refuses a URL used after it expired with 403", async () => {
      const key = newKey("expired");
      const body = randomBytes(100);
      const url = await presignPut(key, body, {
        expiresIn: 60,
        signingDate: new Date(Date.now() - 10 * 60_000),
      });
      expect((await putWith(url, body, sha256(body))).status).toBe(403);
      expect(await stored(key)).toBeUndefined();
    });

    it("does not let a URL signed for key A write key B", async () => {
      const keyA = newKey("url-for-a");
      const keyB = `${keyA}-b`;
      const body = randomBytes(100);
      const url = new URL(await presignPut(keyA, body));
      url.pathname = `${url.pathname}-b`;
      expect((await putWith(url.toString(), body, sha256(body))).status).toBe(403);
      expect(await stored(keyB)).toBeUndefined();
      expect(await stored(keyA)).toBeUndefined();
    });

    it("carries a 16 MiB body with its checksum, byte for byte", async () => {
      const key = newKey("large");
      const body = randomBytes(16 * MiB + 3);
      expect((await putWith(await presignPut(key, body), body, sha256(body))).status).toBe(200);
      const get = await send(await presignGet(key), { method: "GET" });
      expect(get.status).toBe(200);
      expect(sha256(get.body)).toBe(sha256(body));
    });
  });

  describe("presigned GET and DELETE", () => {
    it("refuses an expired or tampered GET URL with 403", async () => {
      const key = newKey("get-refused");
      await client.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: "secret" }));
      const expired = await presignGet(key, { signingDate: new Date(Date.now() - 3600_000) });
      expect((await send(expired, { method: "GET" })).status).toBe(403);
      const tampered = withOneCharacterChanged(await presignGet(key));
      expect((await send(tampered, { method: "GET" })).status).toBe(403);
    });

    it("answers a presigned GET of a missing key with 404 NoSuchKey", async () => {
      expect(await send(await presignGet(newKey("missing")), { method: "GET" })).toMatchObject({
        status: 404,
        code: "NoSuchKey",
      });
    });

    it("serves a byte range with 206", async () => {
      const key = newKey("range");
      await client.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: "0123456789" }));
      const get = await send(await presignGet(key), { method: "GET", headers: { range: "bytes=2-5" } });
      expect(get.status).toBe(206);
      expect(get.body.toString()).toBe("2345");
    });

    it("deletes an object through a presigned DELETE", async () => {
      const key = newKey("delete");
      await client.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: "bye" }));
      const url = await getSignedUrl(client, new DeleteObjectCommand({ Bucket: target.bucket, Key: key }), {
        expiresIn: 300,
      });
      expect((await send(url, { method: "DELETE" })).status).toBe(204);
      expect(await stored(key)).toBeUndefined();
    });
  });

  describe("SDK requests (header-signed)", () => {
    it("HeadObject and GetObject with ChecksumMode ENABLED return the stored ChecksumSHA256", async () => {
      const key = newKey("checksum-mode");
      const body = randomBytes(2000);
      expect((await putWith(await presignPut(key, body), body, sha256(body))).status).toBe(200);
      const head = await client.send(
        new HeadObjectCommand({ Bucket: target.bucket, Key: key, ChecksumMode: "ENABLED" }),
      );
      expect(head.ChecksumSHA256).toBe(sha256(body));
      expect(head.ContentLength).toBe(2000);
      const get = await client.send(
        new GetObjectCommand({ Bucket: target.bucket, Key: key, ChecksumMode: "ENABLED" }),
      );
      expect(get.ChecksumSHA256).toBe(sha256(body));
      await get.Body?.transformToByteArray();
    });

    it("refuses PutObject with a wrong ChecksumSHA256 with 400 BadDigest and stores nothing", async () => {
      const key = newKey("sdk-wrong-checksum");
      const failure = await sdkError(
        client.send(
          new PutObjectCommand({
            Bucket: target.bucket,
            Key: key,
            Body: randomBytes(100),
            ChecksumSHA256: sha256(randomBytes(100)),
          }),
        ),
      );
      expect(failure).toEqual({ name: "BadDigest", status: 400 });
      expect(await stored(key)).toBeUndefined();
    });

    it("round-trips PutObject, GetObject, HeadObject and DeleteObject, with metadata", async () => {
      const key = newKey("sdk round trip é/ü+%?#");
      const put = await client.send(
        new PutObjectCommand({
          Bucket: target.bucket,
          Key: key,
          Body: "hello",
          ContentType: "text/plain",
          Metadata: { device: "d1" },
        }),
      );
      expect(put.ETag).toBe(`"${createHash("md5").update("hello").digest("hex")}"`);
      const get = await client.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
      expect(await get.Body?.transformToString()).toBe("hello");
      expect(get.ContentType).toBe("text/plain");
      expect(get.Metadata).toEqual({ device: "d1" });
      await client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: key }));
      expect(await sdkError(client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key })))).toEqual(
        {
          name: "NotFound",
          status: 404,
        },
      );
    });

    it("accepts a streamed PutObject (aws-chunked, checksum in a trailer) whose chunks are 8 KiB or more", async () => {
      const key = newKey("streamed");
      const parts = [randomBytes(70_000), randomBytes(5), randomBytes(100_000)];
      const buffering = s3ClientFor(target, { requestStreamBufferSize: 64 * 1024 });
      try {
        await buffering.send(
          new PutObjectCommand({
            Bucket: target.bucket,
            Key: key,
            Body: Readable.from(parts),
            ContentLength: 170_005,
            ChecksumAlgorithm: "SHA256",
          }),
        );
      } finally {
        buffering.destroy();
      }
      const whole = Buffer.concat(parts);
      expect((await stored(key))?.equals(whole)).toBe(true);
      const head = await client.send(
        new HeadObjectCommand({ Bucket: target.bucket, Key: key, ChecksumMode: "ENABLED" }),
      );
      expect(head.ChecksumSHA256).toBe(sha256(whole));
    });

    it("refuses a streamed PutObject with a small chunk before the last with 400 InvalidChunkSizeError", async () => {
      const key = newKey("small-chunk");
      const parts = [randomBytes(9000), randomBytes(5), randomBytes(9000)];
      const failure = await sdkError(
        client.send(
          new PutObjectCommand({
            Bucket: target.bucket,
            Key: key,
            Body: Readable.from(parts),
            ContentLength: 18_005,
          }),
        ),
      );
      expect(failure).toEqual({ name: "InvalidChunkSizeError", status: 400 });
      expect(await stored(key)).toBeUndefined();
    });

    it("refuses a request signed with a wrong secret (403) or an unknown key, and stores nothing", async () => {
      const key = newKey("bad-credentials");
      const unknown = s3ClientFor({ ...target, accessKeyId: "UNKNOWNKEY0000000000" });
      const wrongSecret = s3ClientFor({ ...target, secretAccessKey: `${target.secretAccessKey}x` });
      try {
        const put = (c: S3Client) =>
          c.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: "x" }));
        expect(await sdkError(put(wrongSecret))).toEqual({ name: "SignatureDoesNotMatch", status: 403 });
        // S3 (and the embedded store) answer 403 InvalidAccessKeyId; Versity Gateway 404 XAdminUserNotFound.
        const unknownKey = await sdkError(put(unknown));
        expect([403, 404]).toContain(unknownKey.status);
        expect(await stored(key)).toBeUndefined();
      } finally {
        unknown.destroy();
        wrongSecret.destroy();
      }
    });

    it("answers HeadBucket for the bucket, and 404 for a bucket that does not exist", async () => {
      await client.send(new HeadBucketCommand({ Bucket: target.bucket }));
      const missing = await sdkError(
        client.send(new HeadBucketCommand({ Bucket: `${target.bucket}-missing` })),
      );
      expect(missing.status).toBe(404);
    });

    it("lists objects under a prefix, page by page", async () => {
      const prefix = `${newKey("list")}/`;
      const keys = ["a", "b", "c/d", "c/e", "f"].map((name) => `${prefix}${name}`);
      for (const key of keys)
        await client.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: key }));
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket: target.bucket,
            Prefix: prefix,
            MaxKeys: 2,
            ContinuationToken: token,
          }),
        );
        seen.push(...(page.Contents ?? []).map((object) => object.Key ?? ""));
        token = page.NextContinuationToken;
      } while (token);
      expect(seen).toEqual(keys);
      const folded = await client.send(
        new ListObjectsV2Command({ Bucket: target.bucket, Prefix: prefix, Delimiter: "/" }),
      );
      expect((folded.Contents ?? []).map((object) => object.Key)).toEqual([keys[0], keys[1], keys[4]]);
      expect((folded.CommonPrefixes ?? []).map((common) => common.Prefix)).toEqual([`${prefix}c/`]);
    });
  });
}
