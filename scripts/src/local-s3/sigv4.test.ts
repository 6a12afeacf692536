import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { S3RequestPresigner } from "@aws-sdk/s3-request-presigner";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { S3Error } from "./s3-error.ts";
import { type IncomingRequest, verifySignature } from "./sigv4.ts";

// The examples of the S3 SigV4 documentation ("Signature Calculations for the Authorization Header" and
// "Authenticating Requests: Using Query Parameters"), with their published signatures.
const docs = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  now: new Date("2013-05-24T00:00:00Z"),
  scope: "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request",
  emptyHash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
};
const docsConfig = {
  region: "us-east-1",
  secretFor: (id: string) => (id === docs.accessKeyId ? docs.secret : undefined),
};

function headerSigned(
  method: string,
  target: string,
  headers: Record<string, string>,
  signedHeaders: string,
  signature: string,
): IncomingRequest {
  const [rawPath = "", rawQuery = ""] = target.split("?");
  const all: Record<string, string[]> = { host: ["examplebucket.s3.amazonaws.com"] };
  for (const [name, value] of Object.entries(headers)) all[name] = [value];
  all.authorization = [
    `AWS4-HMAC-SHA256 Credential=${docs.scope},SignedHeaders=${signedHeaders},Signature=${signature}`,
  ];
  return { method, rawPath, rawQuery, headers: all };
}

const getObject = headerSigned(
  "GET",
  "/test.txt",
  { range: "bytes=0-9", "x-amz-content-sha256": docs.emptyHash, "x-amz-date": "20130524T000000Z" },
  "host;range;x-amz-content-sha256;x-amz-date",
  "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
);
const putObject = headerSigned(
  "PUT",
  "/test%24file.text",
  {
    date: "Fri, 24 May 2013 00:00:00 GMT",
    "x-amz-date": "20130524T000000Z",
    "x-amz-storage-class": "REDUCED_REDUNDANCY",
    "x-amz-content-sha256": "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
  },
  "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
  "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
);
const listObjects = headerSigned(
  "GET",
  "/?max-keys=2&prefix=J",
  { "x-amz-content-sha256": docs.emptyHash, "x-amz-date": "20130524T000000Z" },
  "host;x-amz-content-sha256;x-amz-date",
  "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
);
const presignedGet: IncomingRequest = {
  method: "GET",
  rawPath: "/test.txt",
  rawQuery:
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
  headers: { host: ["examplebucket.s3.amazonaws.com"] },
};

function rejection(
  request: IncomingRequest,
  now = docs.now,
  config = docsConfig,
): { code: string; status: number } {
  try {
    verifySignature(request, config, now);
  } catch (error) {
    if (error instanceof S3Error) return { code: error.code, status: error.status };
    throw error;
  }
  return { code: "accepted", status: 200 };
}

const withHeader = (request: IncomingRequest, name: string, value: string | undefined): IncomingRequest => {
  const headers = { ...request.headers };
  if (value === undefined) delete headers[name];
  else headers[name] = [value];
  return { ...request, headers };
};

describe("SigV4 verification against the published AWS examples", () => {
  it.each([
    ["GET object with a range", getObject],
    ["PUT object with an escaped key and a Date header", putObject],
    ["GET bucket with a query", listObjects],
    ["presigned GET", presignedGet],
  ])("accepts the documented %s", (_name, request) => {
    const result = verifySignature(request, docsConfig, docs.now);
    expect(result.accessKeyId).toBe(docs.accessKeyId);
  });

  it("rejects a changed header value, path, query or method with SignatureDoesNotMatch", () => {
    const denied = { code: "SignatureDoesNotMatch", status: 403 };
    expect(rejection(withHeader(getObject, "range", "bytes=0-10"))).toEqual(denied);
    expect(rejection({ ...putObject, rawPath: "/test%24file.texT" })).toEqual(denied);
    expect(rejection({ ...listObjects, rawQuery: "max-keys=3&prefix=J" })).toEqual(denied);
    expect(rejection({ ...getObject, method: "HEAD" })).toEqual(denied);
    expect(rejection({ ...presignedGet, rawPath: "/test.txu" })).toEqual(denied);
  });

  it("rejects a missing signed header, an unsigned x-amz header and an unknown key with 403", () => {
    expect(rejection(withHeader(getObject, "range", undefined))).toEqual({
      code: "SignatureDoesNotMatch",
      status: 403,
    });
    expect(rejection(withHeader(getObject, "x-amz-meta-extra", "1"))).toEqual({
      code: "AccessDenied",
      status: 403,
    });
    const otherKey = { region: "us-east-1", secretFor: () => undefined };
    expect(rejection(getObject, docs.now, otherKey)).toEqual({ code: "InvalidAccessKeyId", status: 403 });
    expect(rejection({ ...getObject, headers: { host: ["examplebucket.s3.amazonaws.com"] } })).toEqual({
      code: "AccessDenied",
      status: 403,
    });
  });

  it("accepts a presigned URL until X-Amz-Date plus X-Amz-Expires, then answers AccessDenied", () => {
    const lastSecond = new Date(docs.now.getTime() + 86_400_000);
    expect(verifySignature(presignedGet, docsConfig, lastSecond).via).toBe("query");
    expect(rejection(presignedGet, new Date(lastSecond.getTime() + 1000))).toEqual({
      code: "AccessDenied",
      status: 403,
    });
    expect(rejection(presignedGet, new Date(docs.now.getTime() - 3_600_000))).toEqual({
      code: "AccessDenied",
      status: 403,
    });
  });

  it("refuses a header-signed request from more than 15 minutes away", () => {
    const skewed = new Date(docs.now.getTime() + 16 * 60_000);
    expect(rejection(getObject, skewed)).toEqual({ code: "RequestTimeTooSkewed", status: 403 });
  });

  it("refuses a credential for another region", () => {
    const config = { ...docsConfig, region: "eu-west-1" };
    expect(rejection(getObject, docs.now, config)).toEqual({
      code: "AuthorizationHeaderMalformed",
      status: 400,
    });
    expect(rejection(presignedGet, docs.now, config)).toEqual({
      code: "AuthorizationQueryParametersError",
      status: 400,
    });
  });
});

// Cross-check with the AWS SDK's own signer: whatever the SDK signs, the verifier accepts, and any single
// change to what was signed is refused.
const credentials = { accessKeyId: "AKIDLOCALTEST", secretAccessKey: "local/secret+key" };
const config = {
  region: "us-east-1",
  secretFor: (id: string) => (id === credentials.accessKeyId ? credentials.secretAccessKey : undefined),
};

function toIncoming(request: {
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
}): IncomingRequest {
  const headers: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = [value];
  const rawQuery = Object.entries(request.query ?? {})
    .flatMap(([name, value]) => (Array.isArray(value) ? value : [value ?? ""]).map((v) => [name, v]))
    // A different (looser) encoding than SigV4's on purpose: the verifier must canonicalise what arrives.
    .map(([name = "", value = ""]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join("&");
  return { method: request.method, rawPath: request.path, rawQuery, headers };
}

async function sdkSigned(command: PutObjectCommand | GetObjectCommand): Promise<IncomingRequest> {
  let captured: IncomingRequest | undefined;
  const client = new S3Client({
    endpoint: "http://127.0.0.1:9000",
    region: "us-east-1",
    forcePathStyle: true,
    credentials,
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: Parameters<typeof toIncoming>[0]) => {
        captured = toIncoming(request);
        throw new Error("captured");
      },
    },
  });
  await expect(client.send(command as PutObjectCommand)).rejects.toThrow("captured");
  if (!captured) throw new Error("the SDK sent nothing");
  return captured;
}

const keyArbitrary = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 40 })
  .filter((key) => !key.includes("\u0000"));
const metadataArbitrary = fc.dictionary(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/),
  fc.stringMatching(/^[ -~]{0,20}$/).map((value) => value.trim()),
  { maxKeys: 3 },
);

describe("SigV4 verification of what the AWS SDK signs", () => {
  it("accepts SDK header-signed PutObject and GetObject for any key, and refuses a changed key", async () => {
    await fc.assert(
      fc.asyncProperty(keyArbitrary, metadataArbitrary, fc.boolean(), async (key, metadata, put) => {
        const command = put
          ? new PutObjectCommand({ Bucket: "bucket", Key: key, Body: "some bytes", Metadata: metadata })
          : new GetObjectCommand({ Bucket: "bucket", Key: key, Range: "bytes=0-3" });
        const request = await sdkSigned(command);
        expect(verifySignature(request, config, new Date()).via).toBe("header");
        const moved = { ...request, rawPath: `${request.rawPath}x` };
        expect(rejection(moved, new Date(), config).code).toBe("SignatureDoesNotMatch");
      }),
      { numRuns: 60 },
    );
  });

  it("accepts presigned requests with any path, query and signed headers, and refuses any one change", async () => {
    const presigner = new S3RequestPresigner({
      credentials,
      region: "us-east-1",
      sha256: new S3Client({ region: "us-east-1" }).config.sha256,
    });
    const segment = fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "PUT", "HEAD", "DELETE"),
        fc.array(segment, { minLength: 1, maxLength: 3 }),
        fc.dictionary(fc.stringMatching(/^[a-z][a-z-]{0,8}$/), fc.string({ maxLength: 10 }), { maxKeys: 3 }),
        fc.dictionary(fc.stringMatching(/^x-amz-meta-[a-z]{1,6}$/), fc.stringMatching(/^[!-~]{1,12}$/), {
          maxKeys: 2,
        }),
        fc.integer({ min: 0, max: 3 }),
        async (method, segments, query, extraHeaders, mutation) => {
          const path = `/${segments.map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join("/")}`;
          const headers = { host: "127.0.0.1:9000", ...extraHeaders };
          const signed = await presigner.presign(
            { method, protocol: "http:", hostname: "127.0.0.1", port: 9000, path, query, headers },
            { expiresIn: 300, unhoistableHeaders: new Set(Object.keys(extraHeaders)) },
          );
          const request = toIncoming(signed as Parameters<typeof toIncoming>[0]);
          expect(verifySignature(request, config, new Date()).via).toBe("query");
          const changed: IncomingRequest[] = [
            { ...request, method: method === "GET" ? "PUT" : "GET" },
            { ...request, rawPath: `${request.rawPath}/more` },
            { ...request, rawQuery: `${request.rawQuery}&extra=1` },
            withHeader(request, "host", "127.0.0.1:9001"),
          ];
          const result = rejection(changed[mutation] as IncomingRequest, new Date(), config);
          expect(result.status).toBe(403);
        },
      ),
      { numRuns: 80 },
    );
  });
});
