import { createHash, randomBytes } from "node:crypto";
import { PassThrough, Readable, Writable } from "node:stream";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, startChecksum } from "./checksums.ts";
import { type BodyPromises, bodyPromises, receiveBody } from "./upload.ts";

const checksumOf = (algorithm: ChecksumAlgorithm, bytes: Uint8Array) => {
  const running = startChecksum(algorithm);
  running.update(bytes);
  return running.digest().toString("base64");
};
const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

function awsChunked(body: Buffer, trailer: string): Buffer {
  return Buffer.concat([
    Buffer.from(`${body.length.toString(16)}\r\n`),
    body,
    Buffer.from(`\r\n0\r\n${trailer}\r\n\r\n`),
  ]);
}

/** Runs receiveBody and reports the bytes that reached the sink, or the S3 error code. */
async function receive(wire: Buffer, promises: BodyPromises) {
  const written: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk);
      callback();
    },
  });
  try {
    const received = await receiveBody(Readable.from([wire]), promises, sink);
    return { received, written: Buffer.concat(written) };
  } catch (error) {
    return { code: (error as { code?: string }).code };
  }
}

describe("reading an upload's promises from its headers", () => {
  it("takes the length, checksum header and signed payload hash of a plain PUT", () => {
    const body = Buffer.from("hello");
    const headers = { "content-length": "5", "x-amz-checksum-sha256": checksumOf("sha256", body) };
    expect(bodyPromises(headers, sha256Hex(body))).toEqual({
      length: 5,
      awsChunked: false,
      payloadSha256: sha256Hex(body),
      checksum: { algorithm: "sha256", value: checksumOf("sha256", body) },
      contentMd5: undefined,
    });
  });

  it("takes the decoded length and trailer of an aws-chunked PUT", () => {
    const headers = {
      "x-amz-decoded-content-length": "10",
      "content-encoding": "aws-chunked",
      "x-amz-trailer": "x-amz-checksum-crc32c",
    };
    expect(bodyPromises(headers, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")).toMatchObject({
      length: 10,
      awsChunked: true,
      checksum: { algorithm: "crc32c" },
    });
  });

  it("refuses what it cannot keep: no length, two checksums, a malformed or unknown one, signed chunks", () => {
    const code = (headers: Record<string, string>, payloadHash = "UNSIGNED-PAYLOAD") => {
      try {
        bodyPromises(headers, payloadHash);
        return "accepted";
      } catch (error) {
        return (error as { code: string }).code;
      }
    };
    expect(code({})).toBe("MissingContentLength");
    expect(code({ "content-length": "6000000000" })).toBe("EntityTooLarge");
    const crc = checksumOf("crc32", Buffer.from("x"));
    expect(code({ "content-length": "1", "x-amz-checksum-crc32": crc, "x-amz-checksum-crc32c": crc })).toBe(
      "InvalidRequest",
    );
    expect(code({ "content-length": "1", "x-amz-checksum-sha256": crc })).toBe("InvalidRequest");
    expect(code({ "content-length": "1", "x-amz-checksum-crc64nvme": "AAAAAAAAAAA=" })).toBe(
      "NotImplemented",
    );
    expect(code({ "content-length": "1", "content-md5": "nope" })).toBe("InvalidDigest");
    expect(code({ "x-amz-decoded-content-length": "1" }, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")).toBe(
      "NotImplemented",
    );
    expect(code({ "x-amz-decoded-content-length": "1" }, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")).toBe(
      "InvalidRequest",
    );
  });
});

describe("receiving an upload", () => {
  const bodies = fc.uint8Array({ minLength: 1, maxLength: 2000 }).map((bytes) => Buffer.from(bytes));

  it("accepts a body that keeps every promise, passing its bytes through unchanged", async () => {
    await fc.assert(
      fc.asyncProperty(
        bodies,
        fc.constantFrom(...CHECKSUM_ALGORITHMS),
        fc.boolean(),
        async (body, algorithm, chunked) => {
          const md5 = createHash("md5").update(body).digest();
          const checksum = checksumOf(algorithm, body);
          const promises: BodyPromises = chunked
            ? { length: body.length, awsChunked: true, checksum: { algorithm } }
            : {
                length: body.length,
                awsChunked: false,
                payloadSha256: sha256Hex(body),
                checksum: { algorithm, value: checksum },
                contentMd5: md5.toString("base64"),
              };
          const wire = chunked ? awsChunked(body, `x-amz-checksum-${algorithm}:${checksum}`) : body;
          const result = await receive(wire, promises);
          expect(result.code).toBeUndefined();
          expect(result.written?.equals(body)).toBe(true);
          expect(result.received).toEqual({
            size: body.length,
            md5: md5.toString("hex"),
            checksums: { [algorithm]: checksum },
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it("refuses a body with one byte changed, naming the promise it broke", async () => {
    await fc.assert(
      fc.asyncProperty(
        bodies,
        fc.nat(),
        fc.constantFrom(...CHECKSUM_ALGORITHMS),
        async (body, at, algorithm) => {
          const changed = Buffer.from(body);
          const index = at % body.length;
          changed[index] = (changed[index] ?? 0) ^ 0xff;
          const base = { length: body.length, awsChunked: false } as const;
          const checksum = checksumOf(algorithm, body);
          expect((await receive(changed, { ...base, checksum: { algorithm, value: checksum } })).code).toBe(
            "BadDigest",
          );
          expect((await receive(changed, { ...base, payloadSha256: sha256Hex(body) })).code).toBe(
            "XAmzContentSHA256Mismatch",
          );
          const md5 = createHash("md5").update(body).digest("base64");
          expect((await receive(changed, { ...base, contentMd5: md5 })).code).toBe("BadDigest");
          const trailerPromise = { length: body.length, awsChunked: true, checksum: { algorithm } };
          const wire = awsChunked(changed, `x-amz-checksum-${algorithm}:${checksum}`);
          expect((await receive(wire, trailerPromise)).code).toBe("BadDigest");
        },
      ),
      { numRuns: 40 },
    );
  });

  it("refuses a body shorter or longer than its declared length, or a trailer that never came", async () => {
    const body = randomBytes(100);
    expect((await receive(body.subarray(0, 99), { length: 100, awsChunked: false })).code).toBe(
      "IncompleteBody",
    );
    expect((await receive(body, { length: 99, awsChunked: false })).code).toBe("InvalidRequest");
    const noTrailer = { length: 100, awsChunked: true, checksum: { algorithm: "crc32" as const } };
    expect((await receive(awsChunked(body, "x-amz-other:1"), noTrailer)).code).toBe("MalformedTrailerError");
  });

  it("turns a connection that breaks mid-body into IncompleteBody", async () => {
    const source = new PassThrough();
    const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    const receiving = receiveBody(source, { length: 100, awsChunked: false }, sink);
    source.write(randomBytes(10));
    source.destroy(Object.assign(new Error("aborted"), { code: "ECONNRESET" }));
    await expect(receiving).rejects.toMatchObject({ code: "IncompleteBody" });
  });
});
