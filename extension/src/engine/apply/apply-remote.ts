import { createHash, randomUUID } from "node:crypto";
import { type ChunkHash, isApiError, type VersionReceipt } from "@wsync/shared-protocol";
import { baseName, joinPath, parentPath } from "../fs/types.ts";
import { executableToSend } from "../model/executable.ts";
import type { Action, ParentRef } from "../plan/actions.ts";
import { conflictedCopyName } from "../plan/conflict-name.ts";
import type { LocalEntry } from "../scan/scanner.ts";
import { StateBatch } from "../state/state-store.ts";
import { withRetry } from "../transfer/retry.ts";
import { forgetUploaded, uploadMissingChunks } from "../transfer/uploader.ts";
import {
  type ApplyContext,
  matchesScan,
  StaleLocalStateError,
  syncedSubtree,
  uploadDeps,
} from "./context.ts";
import { remoteRecord, syncedRecord } from "./records.ts";

type Of<T extends Action["type"]> = Extract<Action, { type: T }>;

/**
 * The same request carries the same key on every retry, so a retry after a lost answer is safe.
 * Commits, moves and deletes name a version, which never repeats for a file: their key is derived from
 * the request. A create names nothing unique (the same folder may be created, deleted and created
 * again), so its key is fresh per attempt; a create whose answer was lost in a crash comes back as a
 * name conflict, which the next round resolves by linking the twin.
 */
export function freshKey(): string {
  return `w1-${randomUUID()}`;
}

function idempotencyKey(deviceId: string, ...parts: unknown[]): string {
  return `w1-${createHash("sha256")
    .update(JSON.stringify([deviceId, ...parts]))
    .digest("base64url")
    .slice(0, 40)}`;
}

/** Folders created earlier in this round, by local path. */
export type CreatedFolders = Map<string, string>;

export function resolveParent(ref: ParentRef, created: CreatedFolders): string | null {
  if ("fileId" in ref) return ref.fileId;
  const fileId = created.get(ref.newPath);
  if (fileId === undefined) throw new StaleLocalStateError(ref.newPath);
  return fileId;
}

const hashesOf = (local: LocalEntry) => local.chunks.map((chunk) => chunk.hash);
const sizesOf = (local: LocalEntry) => local.chunks.map((chunk) => chunk.size);

async function upload(ctx: ApplyContext, local: LocalEntry, fileId?: string): Promise<void> {
  await uploadMissingChunks(uploadDeps(ctx), local.path, local.chunks, fileId);
}

/** Runs a write whose chunks were uploaded; once, if the server says some are missing, uploads again. */
async function withChunks<T>(
  ctx: ApplyContext,
  local: LocalEntry,
  fileId: string | undefined,
  write: () => Promise<T>,
) {
  await upload(ctx, local, fileId);
  try {
    return await withRetry(write);
  } catch (error) {
    if (!(await forgetUploaded(ctx.store, error, ctx.present))) throw error;
    await upload(ctx, local, fileId);
    return withRetry(write);
  }
}

export type RecordFields = {
  parentId: string | null;
  name: string;
  isFolder: boolean;
  chunks: ChunkHash[];
  executable?: boolean;
  size: number;
};

async function record(
  ctx: ApplyContext,
  receipt: VersionReceipt,
  fields: RecordFields,
  local: LocalEntry | null,
): Promise<void> {
  await ctx.store.commit(await recordInto(new StateBatch(), ctx, receipt, fields, local));
}

/** Adds to `batch` what one of our own writes made the server hold, as record() commits it. */
export async function recordInto(
  batch: StateBatch,
  ctx: ApplyContext,
  receipt: VersionReceipt,
  fields: RecordFields,
  local: LocalEntry | null,
): Promise<StateBatch> {
  const remote = remoteRecord({
    fileId: receipt.fileId,
    version: receipt.version,
    updatedAt: receipt.updatedAt,
    deviceId: ctx.deviceId,
    ...fields,
  });
  const stat = local ? await ctx.fs.lstat(local.path) : null;
  // The local half is recorded only if the disk still holds the bytes that were sent.
  const current = local && matchesScan(stat, local) ? stat : null;
  const sizes = local ? sizesOf(local) : [];
  return batch
    .putRemote(remote)
    .putSynced(syncedRecord(remote, current, sizes))
    .removeUploaded(fields.chunks);
}

export async function applyCreateFolder(
  ctx: ApplyContext,
  action: Of<"createFolder">,
  created: CreatedFolders,
) {
  const parentId = resolveParent(action.parent, created);
  const body = { parentId, name: action.name, isFolder: true };
  let receipt: VersionReceipt;
  try {
    const key = freshKey();
    receipt = await withRetry(() => ctx.api.createFile(body, { idempotencyKey: key }));
  } catch (error) {
    // Created on both sides: a folder merges with its twin.
    if (!isApiError(error, "name_conflict") || typeof error.details?.fileId !== "string") throw error;
    const twin = await withRetry(() => ctx.api.getFile(error.details?.fileId as string));
    if (!twin.isFolder || twin.deleted) throw error;
    receipt = { fileId: twin.fileId, version: twin.version, updatedAt: twin.updatedAt };
  }
  const stat = await ctx.fs.lstat(action.path);
  const remote = remoteRecord({
    ...receipt,
    parentId,
    name: action.name,
    isFolder: true,
    chunks: [],
    size: 0,
    deviceId: ctx.deviceId,
  });
  await ctx.store.commit(new StateBatch().putRemote(remote).putSynced(syncedRecord(remote, stat, [])));
  created.set(action.path, receipt.fileId);
}

export async function applyCreateFile(ctx: ApplyContext, action: Of<"createFile">, created: CreatedFolders) {
  const parentId = resolveParent(action.parent, created);
  const chunks = hashesOf(action.local);
  const executable = executableToSend(action.local.mode, undefined);
  const body = { parentId, name: action.name, isFolder: false, chunks, executable };
  const key = freshKey();
  const receipt = await withChunks(ctx, action.local, undefined, () =>
    ctx.api.createFile(body, { idempotencyKey: key }),
  );
  await record(
    ctx,
    receipt,
    { parentId, name: action.name, isFolder: false, chunks, executable, size: action.local.size },
    action.local,
  );
}

export async function applyPush(ctx: ApplyContext, action: Of<"push">, created: CreatedFolders) {
  let synced = ctx.store.synced.get(action.fileId);
  if (!synced) throw new StaleLocalStateError(action.path);
  if (action.content) {
    const chunks = hashesOf(action.local);
    const executable = executableToSend(action.local.mode, synced.executable);
    const body = { version: synced.version + 1, chunks, executable };
    const fileId = action.fileId;
    const receipt = await withChunks(ctx, action.local, fileId, () =>
      ctx.api.commit(fileId, body, { idempotencyKey: idempotencyKey(ctx.deviceId, "commit", fileId, body) }),
    );
    await record(
      ctx,
      receipt,
      {
        parentId: synced.parentId,
        name: synced.name,
        isFolder: false,
        chunks,
        executable,
        size: action.local.size,
      },
      action.local,
    );
    synced = ctx.store.synced.get(action.fileId) ?? synced;
  }
  if (action.move) {
    const parentId = resolveParent(action.move.parent, created);
    const body = { version: synced.version + 1, name: action.move.name, parentId };
    let receipt: VersionReceipt;
    try {
      receipt = await withRetry(() =>
        ctx.api.moveFile(action.fileId, body, {
          idempotencyKey: idempotencyKey(ctx.deviceId, "move", action.fileId, body),
        }),
      );
    } catch (error) {
      if (isApiError(error, "name_conflict")) await renameAside(ctx, action.path, action.local);
      throw error;
    }
    const current = ctx.store.synced.get(action.fileId) ?? synced;
    const remote = remoteRecord({
      fileId: action.fileId,
      parentId,
      name: action.move.name,
      isFolder: current.isFolder,
      version: receipt.version,
      chunks: current.chunks,
      executable: current.executable ?? false,
      size: current.size,
      updatedAt: receipt.updatedAt,
      deviceId: ctx.deviceId,
    });
    const stat = await ctx.fs.lstat(action.path);
    // A move changes no bytes: the local half stays valid when it was before.
    const keepStat = current.inode !== -1;
    await ctx.store.commit(
      new StateBatch()
        .putRemote(remote)
        .putSynced(syncedRecord(remote, keepStat ? stat : null, current.chunkSizes)),
    );
  }
}

/** Moved here onto a name the server already gives another item: ours becomes the copy. */
async function renameAside(ctx: ApplyContext, path: string, local: LocalEntry): Promise<void> {
  const folder = parentPath(path);
  const siblings = new Set(await ctx.fs.readdir(folder).catch(() => [] as string[]));
  const name = conflictedCopyName(baseName(path), ctx.deviceName, new Date(), (candidate) =>
    siblings.has(candidate),
  );
  if (!matchesScan(await ctx.fs.lstat(path), local)) return;
  await ctx.fs.rename(path, joinPath(folder, name));
  ctx.touched.add(path).add(joinPath(folder, name));
  ctx.onConflict({
    path,
    copyPath: joinPath(folder, name),
    reason: "moved onto a name taken on another device",
  });
}

export async function applyDeleteRemote(ctx: ApplyContext, action: Of<"deleteRemote">) {
  const synced = ctx.store.synced.get(action.fileId);
  if (!synced) return;
  // The version after the one the plan saw on the server: a refusal (version_conflict) means the
  // server moved on; the round fails, the engine pulls the changes and the next plan starts from them.
  const version = action.version + 1;
  let receipt: VersionReceipt;
  try {
    receipt = await withRetry(() =>
      ctx.api.deleteFile(action.fileId, version, {
        idempotencyKey: idempotencyKey(ctx.deviceId, "delete", action.fileId, version),
      }),
    );
  } catch (error) {
    if (isApiError(error, "version_conflict")) await learnCurrent(ctx, action.fileId);
    throw error;
  }
  const remote = ctx.store.remote.get(action.fileId);
  const batch = new StateBatch();
  for (const id of syncedSubtree(ctx.store, action.fileId)) batch.deleteSynced(id);
  if (remote)
    batch.putRemote({ ...remote, version: receipt.version, deleted: true, updatedAt: receipt.updatedAt });
  await ctx.store.commit(batch);
}

/**
 * A write refused as stale: the server's state of the item now, recorded as the changes feed would
 * (never older than what is known), so the next plan starts from it even before the feed tells and
 * the same stale request is not sent again. Best effort: the feed is read after a failed round anyway.
 */
async function learnCurrent(ctx: ApplyContext, fileId: string): Promise<void> {
  const current = await ctx.api.getFile(fileId).catch(() => undefined);
  const known = ctx.store.remote.get(fileId);
  if (!current || (known && known.version >= current.version)) return;
  const { fileId: id, parentId, name, isFolder, version, size, chunks, updatedAt, deleted } = current;
  const fields = { fileId: id, parentId, name, isFolder, version, size, chunks, updatedAt, deleted };
  const executable = current.executable === undefined ? {} : { executable: current.executable };
  await ctx.store.commit(
    new StateBatch().putRemote(remoteRecord({ ...fields, ...executable, deviceId: null })),
  );
}
