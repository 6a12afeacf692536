import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { accessDenied, badRequest, S3Error, signatureMismatch } from "./s3-error.ts";

/** What AWS Signature Version 4 covers of an HTTP request, exactly as it arrived. */
export interface IncomingRequest {
  method: string;
  /** The path as sent, still percent-encoded, without the query string. */
  rawPath: string;
  /** The query string as sent, without the "?". */
  rawQuery: string;
  /** Lower-case header names to every value received (Node's `headersDistinct`). */
  headers: Readonly<Record<string, readonly string[] | undefined>>;
}

export interface VerifierConfig {
  region: string;
  /** The secret of an access key, or undefined when the key is unknown. */
  secretFor(accessKeyId: string): string | undefined;
}

export interface Authenticated {
  accessKeyId: string;
  via: "header" | "query";
  /** What the signature says of the body: its hex SHA-256, or an UNSIGNED-PAYLOAD / STREAMING-* marker. */
  payloadHash: string;
  signedHeaders: ReadonlySet<string>;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
const MAX_CLOCK_SKEW_MS = 15 * 60_000;
const MAX_EXPIRES_SECONDS = 7 * 24 * 3600;
const PAYLOAD_HASH =
  /^([0-9a-f]{64}|UNSIGNED-PAYLOAD|STREAMING-(UNSIGNED-PAYLOAD-TRAILER|AWS4-(HMAC-SHA256|ECDSA-P256-SHA256)-PAYLOAD(-TRAILER)?))$/;

interface Claim {
  via: "header" | "query";
  accessKeyId: string;
  scope: string[];
  amzDate: string;
  signedHeaders: string[];
  signature: string;
  payloadHash: string;
  expiresSeconds?: number;
}

/**
 * Checks a request's SigV4 signature (Authorization header or presigned query) against the configured
 * keys, the region and the clock. Throws the S3Error a real S3 answers with; returns who signed and what
 * the signature promises about the body, which the caller must still check as the body streams in.
 */
export function verifySignature(request: IncomingRequest, config: VerifierConfig, now: Date): Authenticated {
  const query = parseQuery(request.rawQuery);
  const authorization = single(request.headers, "authorization");
  const queryAlgorithm = query.find(([name]) => name === "X-Amz-Algorithm")?.[1];
  if (authorization !== undefined && queryAlgorithm !== undefined) {
    throw badRequest(
      "InvalidArgument",
      "Only one auth mechanism allowed; use the Authorization header or the query",
    );
  }
  let claim: Claim;
  if (authorization !== undefined) claim = claimFromHeaders(authorization, request.headers);
  else if (queryAlgorithm !== undefined) claim = claimFromQuery(queryAlgorithm, query, request.headers);
  else throw accessDenied("Anonymous access is not allowed: sign the request with AWS Signature Version 4");

  const malformed = (message: string) =>
    claim.via === "header"
      ? badRequest("AuthorizationHeaderMalformed", message)
      : badRequest("AuthorizationQueryParametersError", message);
  const [scopeDate, region, service, terminator] = claim.scope;
  if (claim.scope.length !== 4 || service !== "s3" || terminator !== "aws4_request") {
    throw malformed("the credential must look like KEY/YYYYMMDD/REGION/s3/aws4_request");
  }
  if (region !== config.region)
    throw malformed(`the region '${region}' is wrong; expecting '${config.region}'`);
  const signedAt = parseAmzDate(claim.amzDate);
  if (!signedAt) throw malformed("the signing date must look like YYYYMMDDTHHMMSSZ");
  if (scopeDate !== claim.amzDate.slice(0, 8)) throw malformed("the credential date is not the signing date");
  if (!claim.signedHeaders.includes("host")) throw malformed("the host header must be signed");
  if (!PAYLOAD_HASH.test(claim.payloadHash))
    throw badRequest("InvalidArgument", "x-amz-content-sha256 is invalid");

  const secret = config.secretFor(claim.accessKeyId);
  if (secret === undefined) {
    throw new S3Error(
      "InvalidAccessKeyId",
      403,
      "The AWS access key Id you provided does not exist in our records",
    );
  }
  checkTime(claim, signedAt, now);

  const signedHeaders = new Set(claim.signedHeaders);
  for (const name of claim.signedHeaders) {
    if (request.headers[name] === undefined)
      throw signatureMismatch(`The signed header '${name}' is not in the request`);
  }
  const unsigned = Object.keys(request.headers).filter(
    (name) => name.startsWith("x-amz-") && !signedHeaders.has(name),
  );
  if (unsigned.length > 0) {
    throw accessDenied(
      `There were headers present in the request which were not signed: ${unsigned.join(", ")}`,
    );
  }

  const canonical = [
    request.method,
    canonicalPath(request.rawPath),
    canonicalQuery(claim.via === "query" ? query.filter(([name]) => name !== "X-Amz-Signature") : query),
    ...claim.signedHeaders.map((name) => `${name}:${canonicalHeaderValue(request.headers[name] ?? [])}`),
    "",
    claim.signedHeaders.join(";"),
    claim.payloadHash,
  ].join("\n");
  const stringToSign = [ALGORITHM, claim.amzDate, claim.scope.join("/"), sha256Hex(canonical)].join("\n");
  const key = signingKey(secret, scopeDate, region, service);
  const expected = createHmac("sha256", key).update(stringToSign).digest("hex");
  if (!sameText(expected, claim.signature)) {
    throw signatureMismatch("The request signature we calculated does not match the signature you provided");
  }
  return { accessKeyId: claim.accessKeyId, via: claim.via, payloadHash: claim.payloadHash, signedHeaders };
}

function claimFromHeaders(authorization: string, headers: IncomingRequest["headers"]): Claim {
  if (!authorization.startsWith(`${ALGORITHM} `)) {
    throw badRequest(
      "InvalidRequest",
      `The authorization mechanism you have provided is not supported; use ${ALGORITHM}`,
    );
  }
  const fields = new Map<string, string>();
  for (const part of authorization.slice(ALGORITHM.length + 1).split(",")) {
    const at = part.indexOf("=");
    if (at > 0) fields.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (!credential || !signedHeaders || !signature) {
    throw badRequest(
      "AuthorizationHeaderMalformed",
      "the Authorization header needs Credential, SignedHeaders and Signature",
    );
  }
  const amzDate = single(headers, "x-amz-date");
  if (amzDate === undefined) throw accessDenied("AWS authentication requires a valid x-amz-date header");
  const payloadHash = single(headers, "x-amz-content-sha256");
  if (payloadHash === undefined) {
    throw badRequest("InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
  }
  const [accessKeyId = "", ...scope] = credential.split("/");
  return {
    via: "header",
    accessKeyId,
    scope,
    amzDate,
    signedHeaders: signedHeaders.split(";"),
    signature,
    payloadHash,
  };
}

function claimFromQuery(
  algorithm: string,
  query: ReadonlyArray<[string, string]>,
  headers: IncomingRequest["headers"],
): Claim {
  const param = (name: string) => query.find(([key]) => key === name)?.[1];
  if (algorithm !== ALGORITHM) {
    throw badRequest("AuthorizationQueryParametersError", `X-Amz-Algorithm only supports ${ALGORITHM}`);
  }
  const credential = param("X-Amz-Credential");
  const amzDate = param("X-Amz-Date");
  const expires = param("X-Amz-Expires");
  const signedHeaders = param("X-Amz-SignedHeaders");
  const signature = param("X-Amz-Signature");
  if (!credential || !amzDate || !expires || !signedHeaders || !signature) {
    throw badRequest(
      "AuthorizationQueryParametersError",
      "a presigned URL needs X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature",
    );
  }
  const expiresSeconds = /^\d{1,7}$/.test(expires) ? Number(expires) : Number.NaN;
  if (!(expiresSeconds >= 1 && expiresSeconds <= MAX_EXPIRES_SECONDS)) {
    throw badRequest(
      "AuthorizationQueryParametersError",
      `X-Amz-Expires must be 1 to ${MAX_EXPIRES_SECONDS} seconds`,
    );
  }
  // The presigner hoists x-amz-content-sha256 into the query; a header or the default marker otherwise.
  const payloadHash =
    param("X-Amz-Content-Sha256") ?? single(headers, "x-amz-content-sha256") ?? "UNSIGNED-PAYLOAD";
  const [accessKeyId = "", ...scope] = credential.split("/");
  return {
    via: "query",
    accessKeyId,
    scope,
    amzDate,
    signedHeaders: signedHeaders.split(";"),
    signature,
    payloadHash,
    expiresSeconds,
  };
}

function checkTime(claim: Claim, signedAt: Date, now: Date): void {
  const age = now.getTime() - signedAt.getTime();
  if (claim.expiresSeconds === undefined) {
    if (Math.abs(age) > MAX_CLOCK_SKEW_MS) {
      throw new S3Error(
        "RequestTimeTooSkewed",
        403,
        "The difference between the request time and the current time is too large",
      );
    }
    return;
  }
  if (age < -MAX_CLOCK_SKEW_MS) throw accessDenied("Request is not valid yet");
  if (age > claim.expiresSeconds * 1000) throw accessDenied("Request has expired");
}

/** Query parameters in order, names and values percent-decoded. */
export function parseQuery(rawQuery: string): Array<[string, string]> {
  if (rawQuery === "") return [];
  return rawQuery.split("&").map((pair) => {
    const at = pair.indexOf("=");
    return at < 0 ? [decode(pair), ""] : [decode(pair.slice(0, at)), decode(pair.slice(at + 1))];
  });
}

/** Decodes one percent-encoded component; a malformed escape is the client's error. */
export function decode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    throw badRequest("InvalidURI", "Couldn't parse the specified URI");
  }
}

/** SigV4's URI encoding: everything but RFC 3986 unreserved characters, as %XX of the UTF-8 bytes. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

// S3 signs each path segment encoded once (no double encoding, no dot-segment normalisation), so the
// canonical form is recovered by decoding what arrived and encoding it the one SigV4 way.
function canonicalPath(rawPath: string): string {
  return rawPath === ""
    ? "/"
    : rawPath
        .split("/")
        .map((segment) => uriEncode(decode(segment)))
        .join("/");
}

function canonicalQuery(pairs: ReadonlyArray<[string, string]>): string {
  return pairs
    .map(([name, value]) => `${uriEncode(name)}=${uriEncode(value)}`)
    .sort((a, b) => {
      const [nameA = "", nameB = ""] = [a.split("=")[0], b.split("=")[0]];
      if (nameA !== nameB) return nameA < nameB ? -1 : 1;
      return a < b ? -1 : a > b ? 1 : 0;
    })
    .join("&");
}

function canonicalHeaderValue(values: readonly string[]): string {
  return values.map((value) => value.trim().replace(/\s+/g, " ")).join(",");
}

function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
}

function parseAmzDate(text: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  const date = new Date(Date.UTC(year ?? 0, (month ?? 0) - 1, day, hour, minute, second));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function single(headers: IncomingRequest["headers"], name: string): string | undefined {
  const values = headers[name];
  return values === undefined ? undefined : values.join(",");
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function sameText(a: string, b: string): boolean {
  const [left, right] = [Buffer.from(a), Buffer.from(b)];
  return left.length === right.length && timingSafeEqual(left, right);
}
