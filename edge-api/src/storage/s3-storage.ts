import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { FetchHttpHandler } from "@smithy/fetch-http-handler";
import { CHUNK_HASH_PREFIX, type ChunkHash, checksumSha256Base64 } from "@wsync/shared-protocol";
import type { ChunkStorage } from "./chunk-storage.ts";

export interface S3Settings {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /**
   * Where devices reach the store, when not at `endpoint` (a public host name, a CDN, a proxy): the
   * presigned URLs name it and are signed for its host. The API's own calls still use `endpoint`.
   */
  publicEndpoint?: string;
}

/** The user-metadata key holding the upload tag (`x-amz-meta-wsync-upload`). */
const UPLOAD_TAG_KEY = "wsync-upload";

/** One object per chunk, named by its hash: the same key whoever uploads it. */
export function chunkKey(hash: ChunkHash): string {
  return `chunks/${hash.slice(CHUNK_HASH_PREFIX.length)}`;
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** ChunkStorage on any S3-compatible store (path-style), through fetch only. */
export function createS3Storage(settings: S3Settings): ChunkStorage {
  const client = s3Client(settings, settings.endpoint);
  const presigner = settings.publicEndpoint ? s3Client(settings, settings.publicEndpoint) : client;
  const Bucket = settings.bucket;

  return {
    async presignUpload(hash, size, uploadTag, expiresIn) {
      const checksum = checksumSha256Base64(hash);
      const command = new PutObjectCommand({
        Bucket,
        Key: chunkKey(hash),
        ChecksumSHA256: checksum,
        ContentLength: size,
        Metadata: { [UPLOAD_TAG_KEY]: uploadTag },
      });
      // The checksum must be a signed header, not a query parameter: stores ignore it in the query
      // string and would keep wrong bytes (see STACK.md). Content length and the tag are signed too.
      const tagHeader = `x-amz-meta-${UPLOAD_TAG_KEY}`;
      const url = await getSignedUrl(presigner, command, {
        expiresIn,
        signableHeaders: new Set(["x-amz-checksum-sha256", "content-length", tagHeader]),
        unhoistableHeaders: new Set(["x-amz-checksum-sha256", tagHeader]),
      });
      return { url, headers: { "x-amz-checksum-sha256": checksum, [tagHeader]: uploadTag } };
    },

    presignDownload(hash, expiresIn) {
      return getSignedUrl(presigner, new GetObjectCommand({ Bucket, Key: chunkKey(hash) }), { expiresIn });
    },

    async headChunk(hash) {
      try {
        const head = await client.send(
          new HeadObjectCommand({ Bucket, Key: chunkKey(hash), ChecksumMode: "ENABLED" }),
        );
        return {
          size: head.ContentLength ?? 0,
          checksumSha256: head.ChecksumSHA256,
          uploadTag: head.Metadata?.[UPLOAD_TAG_KEY],
        };
      } catch (error) {
        if (statusOf(error) === 404) return null;
        throw error;
      }
    },

    async deleteChunk(hash) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: chunkKey(hash) }));
    },

    async ensureBucket() {
      try {
        await client.send(new HeadBucketCommand({ Bucket }));
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
        try {
          await client.send(new CreateBucketCommand({ Bucket }));
        } catch (createError) {
          // Another instance may have created it in between.
          if (statusOf(createError) !== 409) throw createError;
        }
      }
    },

    async ping() {
      try {
        await client.send(new HeadBucketCommand({ Bucket }));
        return true;
      } catch {
        return false;
      }
    },
  };
}

function s3Client(settings: S3Settings, endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: settings.region,
    forcePathStyle: true,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    requestHandler: new FetchHttpHandler(),
    // The SDK would otherwise add CRC32 checksums of its own to presigned URLs and requests.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}
