import {
  ApiError,
  type ChunkHash,
  DownloadUrlsRequest,
  limits,
  UploadUrlBatchRequest,
  UploadUrlRequest,
} from "@wsync/shared-protocol";
import { Hono } from "hono";
import { chunksReadableBy } from "../../db/chunks.ts";
import { expectOwnFile } from "../../db/files.ts";
import { planUploads } from "../../services/chunk-uploads.ts";
import type { AppDeps, AppEnv } from "../context.ts";
import { existingId } from "../ids.ts";
import { readJson } from "../json-body.ts";

/** Presigned URLs: uploads (one or a batch) and downloads. */
export function chunkRoutes(deps: AppDeps) {
  const { sql } = deps;
  const checkFile = async (ownerId: string, fileId: string | undefined) => {
    if (fileId !== undefined) await expectOwnFile(sql, ownerId, existingId(fileId, "file"));
  };

  return new Hono<AppEnv>()
    .post("/files/upload-url", async (c) => {
      const { userId } = c.get("auth");
      const body = await readJson(c, UploadUrlRequest);
      await checkFile(userId, body.fileId);
      const [result] = await planUploads(deps, userId, [{ chunkHash: body.chunkHash, size: body.size }]);
      if (!result) throw new Error("planUploads answered nothing");
      const { chunkHash: _, ...answer } = result;
      return c.json(answer);
    })
    .post("/files/upload-urls", async (c) => {
      const { userId } = c.get("auth");
      const body = await readJson(c, UploadUrlBatchRequest);
      await checkFile(userId, body.fileId);
      return c.json({ results: await planUploads(deps, userId, body.chunks) });
    })
    .post("/chunks/download-urls", async (c) => {
      const { userId } = c.get("auth");
      const { hashes } = await readJson(c, DownloadUrlsRequest);
      const distinct = [...new Set(hashes)];
      // Only chunks in a stored version of this user's own files: owning the bytes elsewhere, or
      // knowing a hash, is not enough.
      const readable = await chunksReadableBy(sql, userId, distinct);
      const missing = distinct.filter((hash) => !readable.has(hash));
      if (missing.length > 0) {
        throw new ApiError("not_found", `${missing.length} chunk(s) are not in any of your files`, {
          missing,
        });
      }
      const urls: Record<string, string> = {};
      await Promise.all(
        distinct.map(async (hash: ChunkHash) => {
          urls[hash] = await deps.storage.presignDownload(hash, limits.presignedUrlTtlSeconds);
        }),
      );
      return c.json({ urls });
    });
}
