import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AwsChunkedDecoder } from "./aws-chunked.ts";

function encode(chunks: Uint8Array[], trailers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const chunk of chunks) {
    if (chunk.length === 0) continue;
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), Buffer.from(chunk), Buffer.from("\r\n"));
  }
  parts.push(Buffer.from("0\r\n"));
  for (const [name, value] of Object.entries(trailers)) parts.push(Buffer.from(`${name}:${value}\r\n`));
  parts.push(Buffer.from("\r\n"));
  return Buffer.concat(parts);
}

/** Feeds `wire` to the decoder cut at the given points, as a socket might deliver it. */
async function decode(wire: Buffer, cuts: number[] = []) {
  const points = [0, ...cuts.map((cut) => Math.min(cut, wire.length)).sort((a, b) => a - b), wire.length];
  const pieces = points.slice(1).map((end, i) => wire.subarray(points[i], end));
  const decoder = new AwsChunkedDecoder();
  const bytes = await buffer(Readable.from(pieces).pipe(decoder));
  return { bytes, trailers: Object.fromEntries(decoder.trailers) };
}

describe("aws-chunked decoding", () => {
  it("yields the original bytes and trailers however the wire is split", async () => {
    await fc.assert(
      fc.asyncProperty(
        // Every chunk but the last is at least 8 KiB, as S3 requires.
        fc
          .tuple(fc.array(fc.integer({ min: 8192, max: 9000 }), { maxLength: 3 }), fc.nat(9000))
          .map(([sizes, last]) => [...sizes, last].map((size) => randomBytes(size))),
        fc.array(fc.nat(40_000), { maxLength: 6 }),
        async (chunks, cuts) => {
          const wire = encode(chunks, { "x-amz-checksum-crc32": "AAAAAA==" });
          const { bytes, trailers } = await decode(wire, cuts);
          expect(bytes.equals(Buffer.concat(chunks))).toBe(true);
          expect(trailers).toEqual({ "x-amz-checksum-crc32": "AAAAAA==" });
        },
      ),
      { numRuns: 50 },
    );
  });

  it("decodes the framing the AWS SDK sends, chunk extensions included", async () => {
    const wire = Buffer.from("5;chunk-signature=abc\r\nhello\r\n0\r\nx-amz-checksum-sha256:Zm9v\r\n\r\n");
    expect(await decode(wire)).toEqual({
      bytes: Buffer.from("hello"),
      trailers: { "x-amz-checksum-sha256": "Zm9v" },
    });
  });

  it("refuses a chunk under 8 KiB that is not the last one, with InvalidChunkSizeError", async () => {
    const wire = encode([randomBytes(8191), randomBytes(10)], {});
    await expect(decode(wire)).rejects.toMatchObject({ code: "InvalidChunkSizeError", status: 400 });
    expect((await decode(encode([randomBytes(8192), randomBytes(10)], {}))).bytes.length).toBe(8202);
  });

  it("fails a body that is cut short, has a chunk longer than its size, or bytes after the end", async () => {
    const good = encode([Buffer.from("hello world")], {});
    await expect(decode(good.subarray(0, good.length - 1))).rejects.toMatchObject({ code: "IncompleteBody" });
    await expect(decode(Buffer.from("3\r\nhello\r\n0\r\n\r\n"))).rejects.toMatchObject({
      code: "InvalidRequest",
    });
    await expect(decode(Buffer.concat([good, Buffer.from("x")]))).rejects.toMatchObject({
      code: "InvalidRequest",
    });
    await expect(decode(Buffer.from("zz\r\n"))).rejects.toMatchObject({ code: "InvalidRequest" });
  });
});
