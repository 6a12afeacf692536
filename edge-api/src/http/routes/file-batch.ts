import { ApiError, CreateFileBatchRequest, limits } from "@wsync/shared-protocol";
import type { BatchItem } from "../../db/file-batch.ts";
import type { AppContext } from "../context.ts";
import { existingId } from "../ids.ts";
import { readJsonValue, validate } from "../json-body.ts";

/**
 * The body of `POST /files/batch` as batch items. Too many items or chunks is `payload_too_large`
 * (checked before the schema, so the client learns to split rather than that its body is malformed);
 * a body that fails the schema anywhere is `validation_failed` for the whole request, as for a single
 * create. A parent id that cannot name anything refuses only its own item (`not_found`).
 */
export async function readCreateBatch(c: AppContext): Promise<BatchItem[]> {
  const raw = await readJsonValue(c);
  const creates = (raw as { creates?: unknown } | null)?.creates;
  if (Array.isArray(creates)) {
    if (creates.length > limits.createBatchMax) {
      throw new ApiError("payload_too_large", `a batch holds at most ${limits.createBatchMax} creates`, {
        limit: limits.createBatchMax,
        items: creates.length,
      });
    }
    const chunks = creates.reduce(
      (total: number, item) => total + (Array.isArray(item?.chunks) ? item.chunks.length : 0),
      0,
    );
    if (chunks > limits.createBatchChunksMax) {
      throw new ApiError(
        "payload_too_large",
        `a batch names at most ${limits.createBatchChunksMax} chunks over all its creates`,
        { limit: limits.createBatchChunksMax, chunks },
      );
    }
  }
  const body = validate(CreateFileBatchRequest, raw, "body");
  return body.creates.map((create): BatchItem => {
    const item = {
      parentId: create.parentId,
      name: create.name,
      isFolder: create.isFolder,
      chunks: create.isFolder ? [] : (create.chunks ?? []),
      executable: create.executable ?? false,
    };
    if (create.parentId === null) return item;
    try {
      return { ...item, parentId: existingId(create.parentId, "parent folder") };
    } catch (error) {
      return { ...item, refused: error as ApiError };
    }
  });
}
