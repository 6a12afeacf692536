import { createHash } from "node:crypto";
import { type Readable, Transform, type TransformCallback, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AwsChunkedDecoder } from "./aws-chunked.ts";
import {
  type ChecksumAlgorithm,
  isChecksumAlgorithm,
  type RunningChecksum,
  startChecksum,
} from "./checksums.ts";
import { badRequest, notImplemented, S3Error } from "./s3-error.ts";

/** The largest object a single PUT may carry, as in S3. */
export const MAX_OBJECT_SIZE = 5 * 1024 ** 3;

/** What the request promises about its body; every promise is checked before anything is stored. */
export interface BodyPromises {
  /** The object's length: Content-Length, or x-amz-decoded-content-length for an aws-chunked body. */
  length: number;
  awsChunked: boolean;
  /** Hex SHA-256 of the body, when the signature covers it (x-amz-content-sha256). */
  payloadSha256?: string;
  /** The one flexible checksum sent, in a header (`value`) or as an aws-chunked trailer (no `value`). */
  checksum?: { algorithm: ChecksumAlgorithm; value?: string };
  /** Base64 MD5 from Content-MD5. */
  contentMd5?: string;
}

export interface ReceivedBody {
  size: number;
  /** Hex MD5, S3's ETag of a single-part object. */
  md5: string;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

const NON_CHECKSUM_HEADERS = new Set([
  "x-amz-checksum-mode",
  "x-amz-checksum-type",
  "x-amz-checksum-algorithm",
]);
const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { crc32: 4, crc32c: 4, sha1: 20, sha256: 32 };

/** Reads the body's promises from the headers and the payload hash the signature covers. */
export function bodyPromises(headers: Record<string, string | undefined>, payloadHash: string): BodyPromises {
  if (payloadHash.startsWith("STREAMING-AWS4-"))
    notImplementedError("signed aws-chunked payloads (STREAMING-AWS4-*)");
  const awsChunked = payloadHash === "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
  const declared = awsChunked ? headers["x-amz-decoded-content-length"] : headers["content-length"];
  if (declared === undefined) {
    throw new S3Error("MissingContentLength", 411, "You must provide the Content-Length HTTP header");
  }
  if (!/^\d{1,13}$/.test(declared)) throw badRequest("InvalidArgument", "the content length is not a number");
  const length = Number(declared);
  if (length > MAX_OBJECT_SIZE) {
    throw badRequest("EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size");
  }

  const checksumHeaders = Object.keys(headers).filter(
    (n) => n.startsWith("x-amz-checksum-") && !NON_CHECKSUM_HEADERS.has(n),
  );
  const trailer = headers["x-amz-trailer"];
  if (checksumHeaders.length + (trailer === undefined ? 0 : 1) > 1) {
    throw badRequest("InvalidRequest", "Expecting a single x-amz-checksum- header or trailer");
  }
  if (trailer !== undefined && !awsChunked) {
    throw badRequest(
      "InvalidRequest",
      "x-amz-trailer needs an aws-chunked body (STREAMING-UNSIGNED-PAYLOAD-TRAILER)",
    );
  }
  if (awsChunked && trailer === undefined)
    throw badRequest("InvalidRequest", "aws-chunked bodies need x-amz-trailer");
  let checksum: BodyPromises["checksum"];
  const [header] = checksumHeaders;
  if (header !== undefined) {
    const algorithm = checksumAlgorithm(header);
    const value = headers[header] ?? "";
    if (!isBase64Of(value, DIGEST_BYTES[algorithm])) {
      throw badRequest("InvalidRequest", `Value for ${header} header is invalid.`);
    }
    checksum = { algorithm, value };
  } else if (trailer !== undefined) {
    checksum = { algorithm: checksumAlgorithm(trailer.trim().toLowerCase()) };
  }

  const contentMd5 = headers["content-md5"];
  if (contentMd5 !== undefined && !isBase64Of(contentMd5, 16)) {
    throw badRequest("InvalidDigest", "The Content-MD5 you specified was invalid");
  }
  const payloadSha256 = /^[0-9a-f]{64}$/.test(payloadHash) ? payloadHash : undefined;
  return { length, awsChunked, payloadSha256, checksum, contentMd5 };
}

/**
 * Streams the body into `sink` while hashing it (memory stays bounded whatever the size), then checks
 * every promise. Throws the S3Error of the first broken one; the caller then discards what was written.
 */
export async function receiveBody(
  source: Readable,
  promises: BodyPromises,
  sink: Writable,
): Promise<ReceivedBody> {
  const md5 = createHash("md5");
  const sha256 = promises.payloadSha256 !== undefined ? createHash("sha256") : undefined;
  const running: RunningChecksum | undefined =
    promises.checksum && startChecksum(promises.checksum.algorithm);
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      size += chunk.length;
      if (size > promises.length) {
        callback(badRequest("InvalidRequest", "The body is longer than its declared length"));
        return;
      }
      md5.update(chunk);
      sha256?.update(chunk);
      running?.update(chunk);
      callback(null, chunk);
    },
  });
  const decoder = promises.awsChunked ? new AwsChunkedDecoder() : undefined;
  // The request is piped in rather than made part of the pipeline: a failing pipeline destroys its
  // streams, and destroying the request would close the socket before the error could be answered.
  const first = decoder ?? meter;
  const onSourceError = (error: Error) => first.destroy(error);
  source.on("error", onSourceError);
  source.pipe(first);
  try {
    await (decoder ? pipeline(decoder, meter, sink) : pipeline(meter, sink));
  } catch (error) {
    if (error instanceof S3Error) throw error;
    // The client went away or the connection broke mid-body: nothing to answer, nothing to keep.
    throw badRequest("IncompleteBody", "The request body was cut off");
  } finally {
    source.unpipe(first);
    source.off("error", onSourceError);
  }

  if (size !== promises.length) {
    throw badRequest(
      "IncompleteBody",
      "You did not provide the number of bytes specified by the Content-Length",
    );
  }
  if (sha256 && sha256.digest("hex") !== promises.payloadSha256) {
    throw badRequest(
      "XAmzContentSHA256Mismatch",
      "The provided 'x-amz-content-sha256' header does not match what was computed",
    );
  }
  const checksums: ReceivedBody["checksums"] = {};
  if (promises.checksum && running) {
    const { algorithm } = promises.checksum;
    const expected = promises.checksum.value ?? decoder?.trailers.get(`x-amz-checksum-${algorithm}`);
    if (expected === undefined || !isBase64Of(expected, DIGEST_BYTES[algorithm])) {
      throw badRequest(
        "MalformedTrailerError",
        `The request did not carry a valid x-amz-checksum-${algorithm} trailer`,
      );
    }
    const actual = running.digest().toString("base64");
    if (actual !== expected) {
      throw badRequest(
        "BadDigest",
        `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`,
      );
    }
    checksums[algorithm] = actual;
  }
  const md5Digest = md5.digest();
  if (promises.contentMd5 !== undefined && md5Digest.toString("base64") !== promises.contentMd5) {
    throw badRequest("BadDigest", "The Content-MD5 you specified did not match what we received.");
  }
  return { size, md5: md5Digest.toString("hex"), checksums };
}

function checksumAlgorithm(header: string): ChecksumAlgorithm {
  const name = header.replace(/^x-amz-checksum-/, "");
  if (!isChecksumAlgorithm(name)) notImplementedError(`the checksum ${header}`);
  return name;
}

function notImplementedError(what: string): never {
  throw notImplemented(what);
}

function isBase64Of(text: string, bytes: number): boolean {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(text) && Buffer.from(text, "base64").length === bytes;
}
