import type { FileMetadata } from "@wsync/shared-protocol";
import { currentVersionOf, readFileMetadata } from "../db/files.ts";
import type { AppDeps } from "../http/context.ts";

/**
 * `GET /files/{id}` through the cache. A cached entry is served only when PostgreSQL says its version
 * is still the file's current one: a primary-key probe instead of the chunk-list aggregation, and an
 * invalidation that was lost (cache down at commit time) can never serve an old version.
 */
export async function fileMetadata(
  deps: Pick<AppDeps, "sql" | "cache">,
  ownerId: string,
  fileId: string,
): Promise<FileMetadata> {
  const cached = await deps.cache.fileMetadata(ownerId, fileId);
  if (
    cached &&
    cached.fileId === fileId &&
    (await currentVersionOf(deps.sql, ownerId, fileId)) === cached.version
  ) {
    return cached;
  }
  const metadata = await readFileMetadata(deps.sql, ownerId, fileId);
  await deps.cache.rememberFileMetadata(ownerId, metadata);
  return metadata;
}
