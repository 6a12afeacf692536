import { describe } from "vitest";
import { s3Contract } from "./s3-contract.ts";
import { createScratchBucket } from "./test-bucket.ts";

// The stack suite runs this against the real S3-compatible server it started (Versity Gateway), so the
// embedded store and the real one are held to the same contract.
const endpoint = process.env.S3_ENDPOINT;

describe(`the S3 contract, against ${endpoint ?? "S3_ENDPOINT (not set)"}`, () => {
  s3Contract(async () => {
    const settings = {
      endpoint: required("S3_ENDPOINT"),
      region: process.env.S3_REGION ?? "us-east-1",
      accessKeyId: required("S3_ACCESS_KEY_ID"),
      secretAccessKey: required("S3_SECRET_ACCESS_KEY"),
    };
    return createScratchBucket(settings, "wsync-contract");
  });
});

function required(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} must be set: the stack suite names the real S3 server this test checks`);
  return value;
}
