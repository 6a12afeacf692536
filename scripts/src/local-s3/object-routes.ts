import type { OutgoingHttpHeaders } from "node:http";
import { pipeline } from "node:stream/promises";
import type { ObjectMeta } from "./object-store.ts";
import { notImplemented, S3Error } from "./s3-error.ts";
import type { S3Request } from "./server.ts";
import { bodyPromises, receiveBody } from "./upload.ts";

const RESPONSE_OVERRIDES: Record<string, string> = {
  "response-content-type": "content-type",
  "response-content-disposition": "content-disposition",
  "response-content-encoding": "content-encoding",
  "response-content-language": "content-language",
  "response-cache-control": "cache-control",
  "response-expires": "expires",
};

/**
 * PutObject: the body goes to a temp file while it is hashed; only when its length, signed payload hash,
 * checksum and Content-MD5 all hold is it renamed into place. Otherwise nothing changes.
 */
export async function putObject({ req, res, store, auth, bucket, key, headers, expectsContinue }: S3Request) {
  if (key === undefined) throw new Error("putObject needs a key");
  if (headers["x-amz-copy-source"] !== undefined) throw notImplemented("CopyObject");
  if (headers["if-match"] !== undefined) throw notImplemented("PutObject with If-Match");
  const ifNoneMatch = headers["if-none-match"];
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== "*")
    throw notImplemented("If-None-Match other than *");
  const promises = bodyPromises(headers, auth.payloadHash);
  const pending = await store.beginPut(bucket);
  try {
    if (expectsContinue) res.writeContinue();
    const received = await receiveBody(req, promises, pending.body);
    const meta: ObjectMeta = {
      key,
      size: received.size,
      etag: received.md5,
      lastModified: new Date().toISOString(),
      contentType: headers["content-type"] ?? "binary/octet-stream",
      checksums: received.checksums,
      userMetadata: userMetadata(headers),
    };
    await pending.commit(meta, { onlyIfAbsent: ifNoneMatch !== undefined });
    const response: OutgoingHttpHeaders = { etag: `"${meta.etag}"`, "content-length": 0 };
    for (const [algorithm, value] of Object.entries(meta.checksums))
      response[`x-amz-checksum-${algorithm}`] = value;
    res.writeHead(200, response);
    res.end();
  } catch (error) {
    await pending.abort();
    throw error;
  }
}

/** GetObject and HeadObject, with a single byte range, response-* overrides and ChecksumMode. */
export async function getObject({ res, store, bucket, key, headers, query }: S3Request, headOnly: boolean) {
  if (key === undefined) throw new Error("getObject needs a key");
  const stored = await store.get(bucket, key);
  if (!stored) throw new S3Error("NoSuchKey", 404, "The specified key does not exist.");
  const { meta, file } = stored;
  let streaming = false;
  try {
    const range = parseRange(headers.range, meta.size);
    const response: OutgoingHttpHeaders = {
      "content-type": meta.contentType,
      etag: `"${meta.etag}"`,
      "last-modified": new Date(meta.lastModified).toUTCString(),
      "accept-ranges": "bytes",
      "content-length": range ? range.end - range.start + 1 : meta.size,
    };
    for (const [name, value] of Object.entries(meta.userMetadata)) response[`x-amz-meta-${name}`] = value;
    // A checksum describes the whole object, so a ranged read does not carry it (as in S3).
    if (headers["x-amz-checksum-mode"]?.toUpperCase() === "ENABLED" && !range) {
      for (const [algorithm, value] of Object.entries(meta.checksums))
        response[`x-amz-checksum-${algorithm}`] = value;
      if (Object.keys(meta.checksums).length > 0) response["x-amz-checksum-type"] = "FULL_OBJECT";
    }
    for (const [parameter, header] of Object.entries(RESPONSE_OVERRIDES)) {
      const value = query.get(parameter);
      if (value !== undefined) response[header] = value;
    }
    if (range) response["content-range"] = `bytes ${range.start}-${range.end}/${meta.size}`;
    res.writeHead(range ? 206 : 200, response);
    if (headOnly || meta.size === 0) {
      res.end();
      return;
    }
    // The read stream owns the handle from here and closes it however the transfer ends.
    const body = file.createReadStream({ start: range?.start ?? 0, end: range?.end ?? meta.size - 1 });
    streaming = true;
    // A reader that goes away mid-body is not the store's error; the connection just ends.
    await pipeline(body, res).catch(() => res.destroy());
  } finally {
    if (!streaming) await file.close();
  }
}

export async function deleteObject({ res, store, bucket, key }: S3Request) {
  if (key === undefined) throw new Error("deleteObject needs a key");
  await store.delete(bucket, key);
  res.writeHead(204);
  res.end();
}

function userMetadata(headers: S3Request["headers"]): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith("x-amz-meta-") && value !== undefined)
      metadata[name.slice("x-amz-meta-".length)] = value;
  }
  return metadata;
}

/** One `bytes=` range, clamped to the object; undefined for none (or a form S3 ignores too). */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return undefined;
  let start: number;
  let end: number;
  if (first === "") {
    start = Math.max(0, size - Number(last));
    end = size - 1;
  } else {
    start = Number(first);
    end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
    if (last !== "" && Number(last) < start) return undefined;
  }
  if (start >= size || end < start) {
    throw new S3Error("InvalidRange", 416, "The requested range is not satisfiable");
  }
  return { start, end };
}
