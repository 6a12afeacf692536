import { createScratchBucket, type ScratchBucket } from "@wsync/local-stack/local-s3";
import { inject } from "vitest";

/** A bucket of its own (S3Settings: endpoint, region, bucket, accessKeyId, secretAccessKey) and drop(). */
export type TestBucket = ScratchBucket;

/**
 * A fresh, empty bucket (CreateBucket) on the run's S3 store: the embedded one, or the real one the stack
 * suite names with S3_ENDPOINT. One per test file, so files never see each other's objects. drop()
 * deletes its objects and the bucket.
 */
export function createTestBucket(): Promise<TestBucket> {
  return createScratchBucket(inject("s3"));
}
