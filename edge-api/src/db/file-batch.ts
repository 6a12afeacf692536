import {
  ApiError,
  type ChunkHash,
  type CreateFileBatchResponse,
  limits,
  type VersionReceipt,
} from "@wsync/shared-protocol";
import type { Sql, TransactionSql } from "postgres";
import { type ChangeOutcome, runChange, type Writer } from "./change-transaction.ts";
import { appendChanges, type JournalEntry } from "./changes.ts";
import { addChunkReferences, chunksMissing, holdChunks } from "./chunks.ts";
import { liveSiblings, parentsWithDepth, storageOf } from "./file-batch-reads.ts";
import { parentProblem, tooDeep } from "./file-rows.ts";

/**
 * `POST /files/batch`: many creates in ONE change transaction (one owner lock, one journal range, one
 * statement per table rather than ~10 per file). Each item gets exactly the answer `POST /files` would
 * have given it had the items been sent one after another in order: an item refused (name taken, parent
 * gone, chunk missing, quota) writes nothing and does not stop the others. Every check is made before
 * any write, so no statement can fail midway and abort the transaction for everyone.
 */

export interface BatchItem {
  parentId: string | null;
  name: string;
  isFolder: boolean;
  chunks: readonly ChunkHash[];
  /** Always false for a folder. */
  executable: boolean;
  /** Refused before the transaction (e.g. a parent id that cannot name anything). */
  refused?: ApiError;
}

interface Accepted {
  index: number;
  fileId: string;
  item: BatchItem;
  size: number;
}

const nameKey = (parentId: string | null, name: string) => `${parentId ?? ""}/${name}`;

/**
 * `verifiedSizes` are the sizes of chunks whose uploads were just verified against the store;
 * `missing` the chunks that were not there (their items are `chunks_missing`).
 */
export async function createFiles(
  sql: Sql,
  writer: Writer,
  items: readonly BatchItem[],
  verifiedSizes: ReadonlyMap<string, number>,
  missing: ReadonlySet<string>,
): Promise<ChangeOutcome<CreateFileBatchResponse>> {
  const fileIds = items.map(() => crypto.randomUUID());
  return runChange(sql, writer, async (tx) => {
    // A single create verifies its chunks before its transaction: a missing one comes first there too.
    const answers: (VersionReceipt | ApiError | undefined)[] = items.map((item) => {
      const lacking = [...new Set(item.chunks.filter((hash) => missing.has(hash)))];
      return item.refused ?? (lacking.length > 0 ? chunksMissing(lacking) : undefined);
    });
    const open = () => items.flatMap((item, index) => (answers[index] ? [] : [{ item, index }]));

    const parentIds = [...new Set(open().flatMap(({ item }) => (item.parentId ? [item.parentId] : [])))];
    const parents = await parentsWithDepth(tx, writer.ownerId, parentIds);
    for (const { item, index } of open()) {
      if (item.parentId === null) continue;
      const parent = parents.get(item.parentId);
      answers[index] =
        parentProblem(item.parentId, parent) ??
        ((parent?.depth ?? 0) + 1 > limits.folderDepthMax ? tooDeep() : undefined);
    }
    const siblings = await liveSiblings(
      tx,
      writer.ownerId,
      open().map(({ item, index }) => ({ index, parentId: item.parentId, name: item.name })),
    );
    const candidates = open().filter(({ index }) => !siblings.has(index));
    const wanted = new Set<string>(candidates.flatMap(({ item }) => item.chunks));
    const verifiedWanted = new Map([...verifiedSizes].filter(([hash]) => wanted.has(hash)));
    const held = await holdChunks(tx, writer.ownerId, [...wanted], verifiedWanted, writer.now);
    const absent = new Set<string>(held.absent);
    const storage = await storageOf(tx, writer.ownerId);

    const accepted: Accepted[] = [];
    const namesTaken = new Map<string, string>();
    let added = 0n;
    for (const { item, index } of open()) {
      const key = nameKey(item.parentId, item.name);
      const sibling = siblings.get(index) ?? namesTaken.get(key);
      if (sibling !== undefined) {
        answers[index] = new ApiError("name_conflict", "a live sibling already has that name", {
          fileId: sibling,
        });
        continue;
      }
      const lacking = [...new Set(item.chunks.filter((hash) => absent.has(hash)))];
      if (lacking.length > 0) {
        answers[index] = chunksMissing(lacking);
        continue;
      }
      const size = item.chunks.reduce((total, hash) => total + (held.sizes.get(hash) ?? 0), 0);
      if (size > 0 && storage.used + added + BigInt(size) > storage.quota) {
        answers[index] = new ApiError(
          "quota_exceeded",
          "this change would take the account over its storage quota",
          { storageQuota: Number(storage.quota), storageUsed: Number(storage.used + added), needed: size },
        );
        continue;
      }
      added += BigInt(size);
      const fileId = fileIds[index] as string;
      namesTaken.set(key, fileId);
      accepted.push({ index, fileId, item, size });
      answers[index] = { fileId, version: 1, updatedAt: writer.now.toISOString() };
    }
    await insertCreated(tx, writer, accepted);
    return {
      results: answers.map((answer) =>
        answer instanceof ApiError ? answer.toEnvelope() : (answer as VersionReceipt),
      ),
    };
  });
}

/** Writes the accepted items: their rows, versions, chunk lists and references, and journal entries. */
async function insertCreated(tx: TransactionSql, writer: Writer, accepted: readonly Accepted[]) {
  if (accepted.length === 0) return;
  const { ownerId, deviceId, now } = writer;
  const ids = accepted.map((a) => a.fileId);
  const parents = accepted.map((a) => a.item.parentId);
  const names = accepted.map((a) => a.item.name);
  // Typed bool[] (oid 1000): postgres.js sends a bare JS boolean array as a scalar boolean, and its
  // bool serializer turns every element that is not `true` (the strings "true" included) into false.
  const folders = tx.array(
    accepted.map((a) => a.item.isFolder),
    1000,
  );
  const sizes = accepted.map((a) => String(a.size));
  const executables = tx.array(
    accepted.map((a) => a.item.executable && !a.item.isFolder),
    1000,
  );
  await tx`
    INSERT INTO files (owner_id, id, parent_id, name, is_folder, current_version, size, created_at, updated_at)
    SELECT ${ownerId}, t.id, t.parent_id, t.name, t.is_folder, 1, t.size, ${now}, ${now}
    FROM unnest(${ids}::uuid[], ${parents as string[]}::uuid[], ${names}::text[], ${folders},
      ${sizes}::bigint[]) AS t(id, parent_id, name, is_folder, size)`;
  await tx`
    INSERT INTO file_versions (owner_id, file_id, version, action, name, parent_id, is_folder, deleted, size, device_id, created_at, executable)
    SELECT ${ownerId}, t.id, 1, 'created', t.name, t.parent_id, t.is_folder, false, t.size, ${deviceId}, ${now}, t.executable
    FROM unnest(${ids}::uuid[], ${parents as string[]}::uuid[], ${names}::text[], ${folders},
      ${sizes}::bigint[], ${executables}) AS t(id, parent_id, name, is_folder, size, executable)`;
  const chunkFiles = accepted.flatMap((a) => a.item.chunks.map(() => a.fileId));
  const chunkIndexes = accepted.flatMap((a) => a.item.chunks.map((_, i) => i));
  const chunkHashes: string[] = accepted.flatMap((a) => [...a.item.chunks]);
  if (chunkHashes.length > 0) {
    await tx`
      INSERT INTO file_chunks (owner_id, file_id, version, chunk_index, chunk_hash)
      SELECT ${ownerId}, t.file_id, 1, t.chunk_index, t.chunk_hash
      FROM unnest(${chunkFiles}::uuid[], ${chunkIndexes}::int[], ${chunkHashes}::text[])
        AS t(file_id, chunk_index, chunk_hash)`;
    await addChunkReferences(tx, ownerId, chunkHashes);
  }
  const entries = accepted.map(
    (a): JournalEntry => ({ fileId: a.fileId, version: 1, action: "created", deviceId }),
  );
  const total = accepted.reduce((sum, a) => sum + a.size, 0);
  await appendChanges(tx, ownerId, entries, total, now);
}
