import { GetObjectCommand, HeadBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { s3ClientFor } from "@wsync/local-stack/local-s3";
import { describe, expect, it } from "vitest";
import { createTestBucket } from "./s3.ts";

describe("test buckets", () => {
  it("gives each caller its own empty bucket, and drop() removes it with its objects", async () => {
    const [first, second] = await Promise.all([createTestBucket(), createTestBucket()]);
    const client = s3ClientFor(first);
    try {
      expect(first.bucket).not.toBe(second.bucket);
      expect(Object.keys(first).sort()).toEqual([
        "accessKeyId",
        "bucket",
        "drop",
        "endpoint",
        "region",
        "secretAccessKey",
      ]);
      await client.send(new PutObjectCommand({ Bucket: first.bucket, Key: "marker", Body: "first's" }));
      const elsewhere = client.send(new GetObjectCommand({ Bucket: second.bucket, Key: "marker" }));
      await expect(elsewhere).rejects.toMatchObject({ name: "NoSuchKey" });
      await first.drop();
      await second.drop();
      const gone = client.send(new HeadBucketCommand({ Bucket: first.bucket }));
      await expect(gone).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    } finally {
      client.destroy();
    }
  });
});
