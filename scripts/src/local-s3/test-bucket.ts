import { randomBytes } from "node:crypto";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import type { S3Settings } from "./index.ts";

export type S3Connection = Omit<S3Settings, "bucket">;

export interface ScratchBucket extends S3Settings {
  /** Deletes every object, then the bucket. */
  drop(): Promise<void>;
}

/** An SDK client set up the way this system talks to any S3: path-style, static keys. */
export function s3ClientFor(connection: S3Connection, options: S3ClientConfig = {}): S3Client {
  return new S3Client({
    ...options,
    endpoint: connection.endpoint,
    region: connection.region,
    forcePathStyle: true,
    credentials: { accessKeyId: connection.accessKeyId, secretAccessKey: connection.secretAccessKey },
  });
}

/** A new, empty bucket with a random name (CreateBucket), for one test file or one test. */
export async function createScratchBucket(
  connection: S3Connection,
  prefix = "wsync-test",
): Promise<ScratchBucket> {
  const bucket = `${prefix}-${randomBytes(8).toString("hex")}`;
  const client = s3ClientFor(connection);
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  return {
    ...connection,
    bucket,
    async drop() {
      const cleaner = s3ClientFor(connection);
      try {
        let token: string | undefined;
        do {
          const page = await cleaner.send(
            new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
          );
          for (const { Key } of page.Contents ?? []) {
            await cleaner.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
          }
          token = page.NextContinuationToken;
        } while (token);
        await cleaner.send(new DeleteBucketCommand({ Bucket: bucket }));
      } finally {
        cleaner.destroy();
      }
    },
  };
}
