import {
  CommitRequest,
  CreateFileRequest,
  DeleteQuery,
  MoveRequest,
  RestoreRequest,
} from "@wsync/shared-protocol";
import { Hono } from "hono";
import type { ChangeOutcome } from "../../db/change-transaction.ts";
import { createFiles } from "../../db/file-batch.ts";
import { deleteFile, moveFile, restoreVersion } from "../../db/file-tree.ts";
import { commitVersion, createFile, listFileVersions } from "../../db/files.ts";
import { verifyChunks, verifyChunksForCommit } from "../../services/chunk-uploads.ts";
import { fileMetadata } from "../../services/file-metadata.ts";
import type { AppContext, AppDeps, AppEnv } from "../context.ts";
import { changeResponse, idempotent, writerOf } from "../idempotency.ts";
import { existingId } from "../ids.ts";
import { readJson, readQuery, validate } from "../json-body.ts";
import { readCreateBatch } from "./file-batch.ts";

/** Files and folders: create, commit, read, rename/move, delete, history, restore. */
export function fileRoutes(deps: AppDeps) {
  const { sql } = deps;
  const writer = (c: AppContext, status: 200 | 201 = 200) => writerOf(c, deps.clock(), status);
  const fileIdOf = (c: AppContext) => existingId(c.req.param("fileId"), "file");
  const once = idempotent(deps);
  /**
   * After a change commits: the user's cached file metadata goes (entries are version-checked
   * anyway; this keeps the cache small and fresh), and the chunks a new version names are this
   * user's now, so the next upload-url for them answers `exists` from the cache.
   */
  const changed = async <T>(c: AppContext, outcome: ChangeOutcome<T>, chunks: readonly string[] = []) => {
    const { userId } = c.get("auth");
    await deps.cache.forgetFiles(userId);
    if (chunks.length > 0) await deps.cache.rememberOwnedChunks(userId, [...new Set(chunks)]);
    return outcome;
  };

  return new Hono<AppEnv>()
    .post("/files", once, async (c) => {
      const body = await readJson(c, CreateFileRequest);
      const parentId = body.parentId === null ? null : existingId(body.parentId, "parent folder");
      const chunks = body.isFolder ? [] : (body.chunks ?? []);
      const verifiedSizes = await verifyChunksForCommit(deps, c.get("auth").userId, chunks);
      const outcome = await createFile(sql, writer(c, 201), {
        parentId,
        name: body.name,
        isFolder: body.isFolder,
        chunks,
        executable: body.executable ?? false,
        verifiedSizes,
      });
      return changeResponse(c, await changed(c, outcome, chunks), 201);
    })
    .post("/files/batch", once, async (c) => {
      const items = await readCreateBatch(c);
      const chunks = items.flatMap((item) => (item.refused ? [] : item.chunks));
      const { verified, missing } = await verifyChunks(deps, c.get("auth").userId, chunks);
      const outcome = await createFiles(sql, writer(c), items, verified, new Set(missing));
      // Only the created items' chunks are this user's now (a refused item's upload stays unspent).
      const created = items.flatMap((item, i) =>
        "fileId" in (outcome.receipt.results[i] ?? {}) ? item.chunks : [],
      );
      return changeResponse(c, await changed(c, outcome, created), 200);
    })
    .get("/files/:fileId", async (c) => c.json(await fileMetadata(deps, c.get("auth").userId, fileIdOf(c))))
    .post("/files/:fileId/commit", once, async (c) => {
      const fileId = fileIdOf(c);
      const body = await readJson(c, CommitRequest);
      const verifiedSizes = await verifyChunksForCommit(deps, c.get("auth").userId, body.chunks);
      const outcome = await commitVersion(sql, writer(c), {
        fileId,
        version: body.version,
        chunks: body.chunks,
        executable: body.executable ?? false,
        verifiedSizes,
      });
      return changeResponse(c, await changed(c, outcome, body.chunks), 200);
    })
    .patch("/files/:fileId", once, async (c) => {
      const fileId = fileIdOf(c);
      const body = await readJson(c, MoveRequest);
      const parentId =
        body.parentId === undefined || body.parentId === null
          ? body.parentId
          : existingId(body.parentId, "parent folder");
      const outcome = await moveFile(sql, writer(c), {
        fileId,
        version: body.version,
        name: body.name,
        parentId,
      });
      return changeResponse(c, await changed(c, outcome), 200);
    })
    .delete("/files/:fileId", once, async (c) => {
      const fileId = fileIdOf(c);
      const { version } = validate(DeleteQuery, readQuery(c), "query");
      return changeResponse(c, await changed(c, await deleteFile(sql, writer(c), fileId, version)), 200);
    })
    .get("/files/:fileId/versions", async (c) =>
      c.json({ versions: await listFileVersions(sql, c.get("auth").userId, fileIdOf(c)) }),
    )
    .post("/files/:fileId/restore", once, async (c) => {
      const fileId = fileIdOf(c);
      const body = await readJson(c, RestoreRequest);
      const outcome = await restoreVersion(sql, writer(c), { fileId, ...body });
      return changeResponse(c, await changed(c, outcome), 200);
    });
}
