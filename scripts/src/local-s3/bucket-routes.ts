import type { ObjectMeta } from "./object-store.ts";
import { badRequest, S3Error, xmlEscape } from "./s3-error.ts";
import type { S3Request } from "./server.ts";
import { uriEncode } from "./sigv4.ts";

const NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";
const MAX_CREATE_BUCKET_BODY = 64 * 1024;

export async function createBucket({ req, res, store, bucket, expectsContinue }: S3Request) {
  if (expectsContinue) res.writeContinue();
  // The body is an optional CreateBucketConfiguration; the store has one region, so it is read and dropped.
  let length = 0;
  for await (const chunk of req) {
    length += (chunk as Buffer).length;
    if (length > MAX_CREATE_BUCKET_BODY)
      throw badRequest("MalformedXML", "The CreateBucket body is too large");
  }
  if ((await store.createBucket(bucket)) === "exists") {
    throw new S3Error(
      "BucketAlreadyOwnedByYou",
      409,
      "Your previous request to create the named bucket succeeded and you already own it.",
    );
  }
  res.writeHead(200, { location: `/${bucket}`, "content-length": 0 });
  res.end();
}

export async function headBucket({ res, store, bucket, region }: S3Request) {
  if (!(await store.bucketExists(bucket)))
    throw new S3Error("NoSuchBucket", 404, "The specified bucket does not exist");
  res.writeHead(200, { "x-amz-bucket-region": region, "content-length": 0 });
  res.end();
}

export async function deleteBucket({ res, store, bucket }: S3Request) {
  await store.deleteBucket(bucket);
  res.writeHead(204);
  res.end();
}

interface PageToken {
  /** Resume after this key... */
  after: string;
  /** ...and past every key under this common prefix, when the last entry of the page was one. */
  skipPrefix?: string;
}

/** ListObjectsV2 with prefix, delimiter, max-keys, start-after, continuation-token and encoding-type=url. */
export async function listObjectsV2({ res, store, bucket, query }: S3Request) {
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") || undefined;
  const maxKeysText = query.get("max-keys") ?? "1000";
  if (!/^\d{1,9}$/.test(maxKeysText))
    throw badRequest("InvalidArgument", "max-keys must be a number from 0 to 1000");
  const maxKeys = Math.min(Number(maxKeysText), 1000);
  const continuationToken = query.get("continuation-token");
  const startAfter = query.get("start-after");
  const urlEncoded = query.get("encoding-type") === "url";
  if (query.has("encoding-type") && !urlEncoded)
    throw badRequest("InvalidArgument", "Invalid Encoding Method specified in Request");
  const resume: PageToken =
    continuationToken !== undefined ? decodeToken(continuationToken) : { after: startAfter ?? "" };

  const contents: ObjectMeta[] = [];
  const prefixes: string[] = [];
  let truncated = false;
  let last: PageToken = resume;
  for (const meta of await store.list(bucket)) {
    if (!meta.key.startsWith(prefix) || meta.key <= resume.after) continue;
    if (resume.skipPrefix !== undefined && meta.key.startsWith(resume.skipPrefix)) continue;
    const cut = delimiter === undefined ? -1 : meta.key.indexOf(delimiter, prefix.length);
    const common = cut < 0 ? undefined : meta.key.slice(0, cut + (delimiter?.length ?? 0));
    if (common !== undefined && prefixes.at(-1) === common) continue;
    if (contents.length + prefixes.length >= maxKeys) {
      truncated = true;
      break;
    }
    if (common !== undefined) {
      prefixes.push(common);
      last = { after: meta.key, skipPrefix: common };
    } else {
      contents.push(meta);
      last = { after: meta.key };
    }
  }

  const text = (value: string) => xmlEscape(urlEncoded ? uriEncode(value) : value);
  const parts = [
    `<Name>${xmlEscape(bucket)}</Name><Prefix>${text(prefix)}</Prefix>`,
    delimiter === undefined ? "" : `<Delimiter>${text(delimiter)}</Delimiter>`,
    startAfter === undefined ? "" : `<StartAfter>${text(startAfter)}</StartAfter>`,
    continuationToken === undefined
      ? ""
      : `<ContinuationToken>${xmlEscape(continuationToken)}</ContinuationToken>`,
    `<KeyCount>${contents.length + prefixes.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>`,
    urlEncoded ? "<EncodingType>url</EncodingType>" : "",
    `<IsTruncated>${truncated}</IsTruncated>`,
    truncated ? `<NextContinuationToken>${encodeToken(last)}</NextContinuationToken>` : "",
    ...contents.map(
      (meta) =>
        `<Contents><Key>${text(meta.key)}</Key><LastModified>${meta.lastModified}</LastModified>` +
        `<ETag>&quot;${meta.etag}&quot;</ETag><Size>${meta.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    ),
    ...prefixes.map((common) => `<CommonPrefixes><Prefix>${text(common)}</Prefix></CommonPrefixes>`),
  ];
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="${NAMESPACE}">${parts.join("")}</ListBucketResult>`;
  res.writeHead(200, { "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function encodeToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token)).toString("base64url");
}

function decodeToken(text: string): PageToken {
  try {
    const token = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as PageToken;
    if (
      typeof token.after === "string" &&
      (token.skipPrefix === undefined || typeof token.skipPrefix === "string")
    ) {
      return token;
    }
  } catch {}
  throw badRequest("InvalidArgument", "The continuation token provided is incorrect");
}
