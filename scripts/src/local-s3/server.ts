import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createBucket, deleteBucket, headBucket, listObjectsV2 } from "./bucket-routes.ts";
import { deleteObject, getObject, putObject } from "./object-routes.ts";
import type { ObjectStore } from "./object-store.ts";
import { badRequest, errorXml, newRequestId, notImplemented, S3Error } from "./s3-error.ts";
import { type Authenticated, decode, parseQuery, verifySignature } from "./sigv4.ts";

export interface S3ServerConfig {
  region: string;
  credentials: ReadonlyMap<string, string>;
  /** The clock signatures are checked against; tests may move it. */
  now?: () => Date;
  /** Told of errors that are the store's fault (500s), which the client only sees as InternalError. */
  onInternalError?: (error: unknown) => void;
}

/** One authenticated request, routed to a bucket or object operation. */
export interface S3Request {
  req: IncomingMessage;
  res: ServerResponse;
  store: ObjectStore;
  region: string;
  auth: Authenticated;
  bucket: string;
  key?: string;
  /** Decoded query parameters (the last value of a repeated name). */
  query: ReadonlyMap<string, string>;
  /** Request headers, lower-case, with signed x-amz-* query parameters of a presigned URL merged in. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The client waits for `100 Continue` before it sends the body. */
  expectsContinue: boolean;
}

// Query parameters that are not sub-resources: authentication, the SDK's operation marker, listing.
const LIST_PARAMETERS = [
  "list-type",
  "prefix",
  "delimiter",
  "max-keys",
  "continuation-token",
  "start-after",
  "encoding-type",
  "fetch-owner",
];
const RESPONSE_OVERRIDES = [
  "response-content-type",
  "response-content-disposition",
  "response-content-encoding",
  "response-content-language",
  "response-cache-control",
  "response-expires",
];

/** The embedded store's HTTP edge: path-style S3 requests, SigV4-authenticated, on a local ObjectStore. */
export function createS3Server(store: ObjectStore, config: S3ServerConfig): Server {
  const verifier = { region: config.region, secretFor: (id: string) => config.credentials.get(id) };
  const now = config.now ?? (() => new Date());
  const handle = async (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => {
    const requestId = newRequestId();
    res.setHeader("x-amz-request-id", requestId);
    const target = req.url ?? "/";
    const queryAt = target.indexOf("?");
    const rawPath = queryAt < 0 ? target : target.slice(0, queryAt);
    const rawQuery = queryAt < 0 ? "" : target.slice(queryAt + 1);
    try {
      const method = req.method ?? "GET";
      const headersDistinct = req.headersDistinct as Record<string, string[] | undefined>;
      const auth = verifySignature({ method, rawPath, rawQuery, headers: headersDistinct }, verifier, now());
      const pairs = parseQuery(rawQuery);
      const query = new Map(pairs);
      const headers = mergedHeaders(headersDistinct, pairs);
      const [bucket, key] = splitPath(rawPath);
      if (!bucket) throw notImplemented("ListBuckets");
      const request: S3Request = {
        req,
        res,
        store,
        region: config.region,
        auth,
        bucket,
        key,
        query,
        headers,
        expectsContinue,
      };
      await route(request, method);
    } catch (error) {
      sendError(req, res, error, decodeOr(rawPath), requestId, config.onInternalError);
    }
  };
  const server = createServer((req, res) => void handle(req, res, false));
  // Answering `Expect: 100-continue` ourselves lets a bad signature be refused before the body is sent.
  server.on("checkContinue", (req, res) => void handle(req, res, true));
  return server;
}

async function route(request: S3Request, method: string): Promise<void> {
  const { key, query } = request;
  const subresources = [...query.keys()].filter((name) => {
    if (/^x-amz-/i.test(name) || name === "x-id") return false;
    return key === undefined ? !LIST_PARAMETERS.includes(name) : !RESPONSE_OVERRIDES.includes(name);
  });
  if (subresources.length > 0) throw notImplemented(`${method} with ?${subresources.join("&")}`);
  if (key === undefined) {
    if (method === "PUT") return createBucket(request);
    if (method === "HEAD") return headBucket(request);
    if (method === "DELETE") return deleteBucket(request);
    if (method === "GET" && query.get("list-type") === "2") return listObjectsV2(request);
    if (method === "GET") throw notImplemented("ListObjects (version 1)");
  } else {
    if (method === "PUT") return putObject(request);
    if (method === "GET" || method === "HEAD") return getObject(request, method === "HEAD");
    if (method === "DELETE") return deleteObject(request);
  }
  throw new S3Error("MethodNotAllowed", 405, "The specified method is not allowed against this resource");
}

/** `/bucket/some/key` into the bucket name and the decoded key (undefined for bucket requests). */
function splitPath(rawPath: string): [string | undefined, string | undefined] {
  const path = rawPath.startsWith("/") ? rawPath.slice(1) : rawPath;
  const slash = path.indexOf("/");
  if (slash < 0) return [path === "" ? undefined : decode(path), undefined];
  const key = decode(path.slice(slash + 1));
  if (Buffer.byteLength(key) > 1024) throw badRequest("KeyTooLongError", "Your key is too long");
  return [decode(path.slice(0, slash)), key === "" ? undefined : key];
}

// A presigned URL carries x-amz-* headers hoisted into its (signed) query; S3 treats them as headers.
function mergedHeaders(
  distinct: Record<string, string[] | undefined>,
  query: ReadonlyArray<[string, string]>,
): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, values] of Object.entries(distinct)) headers[name] = values?.join(",");
  for (const [name, value] of query) {
    if (!name.startsWith("x-amz-")) continue;
    const existing = headers[name];
    if (existing !== undefined && existing !== value) {
      throw badRequest(
        "InvalidRequest",
        `${name} is both in the query and in a header, with different values`,
      );
    }
    headers[name] = value;
  }
  return headers;
}

function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
  resource: string,
  requestId: string,
  onInternalError?: (error: unknown) => void,
): void {
  const s3Error =
    error instanceof S3Error ? error : new S3Error("InternalError", 500, "We encountered an internal error");
  if (!(error instanceof S3Error)) onInternalError?.(error);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (res.destroyed || !req.socket || req.socket.destroyed) return;
  const body = req.method === "HEAD" ? "" : errorXml(s3Error, resource, requestId);
  res.writeHead(s3Error.status, {
    "content-type": "application/xml",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

function decodeOr(rawPath: string): string {
  try {
    return decodeURIComponent(rawPath);
  } catch {
    return rawPath;
  }
}
