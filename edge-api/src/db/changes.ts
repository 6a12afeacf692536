import {
  ApiError,
  type BusEvent,
  type Change,
  type ChunkHash,
  encodeSyncToken,
  type FileAction,
} from "@wsync/shared-protocol";
import type { Sql, TransactionSql } from "postgres";
import { publishEvents } from "./outbox.ts";

/**
 * The per-user change journal. Every change transaction starts with `lockOwnerForChange` and ends with
 * `appendChanges`: holding the user row lock for the whole transaction makes one user's changes run
 * one at a time, so the journal sequence is the commit order (a reader paging by it never skips a
 * change that commits late), and tree checks (cycles, sibling names, depth) cannot race.
 */

export async function lockOwnerForChange(tx: TransactionSql, ownerId: string): Promise<void> {
  const rows = await tx`SELECT 1 FROM users WHERE id = ${ownerId} FOR UPDATE`;
  if (rows.length === 0) throw new ApiError("unauthorized", "no such account");
}

export interface JournalEntry {
  fileId: string;
  version: number;
  action: FileAction;
  deviceId: string | null;
}

/**
 * Numbers `entries` in order with the next journal sequence values, moves storage used by
 * `storageDelta` (refusing to grow past the quota), and queues one event per entry for the notifier.
 */
export async function appendChanges(
  tx: TransactionSql,
  ownerId: string,
  entries: JournalEntry[],
  storageDelta: number,
  now: Date,
): Promise<bigint[]> {
  const [user] = await tx<{ journal_seq: string; storage_used: string; storage_quota: string }[]>`
    UPDATE users SET journal_seq = journal_seq + ${entries.length}, storage_used = storage_used + ${storageDelta}
    WHERE id = ${ownerId} RETURNING journal_seq, storage_used, storage_quota`;
  if (!user) throw new ApiError("unauthorized", "no such account");
  if (storageDelta > 0 && BigInt(user.storage_used) > BigInt(user.storage_quota)) {
    throw new ApiError("quota_exceeded", "this change would take the account over its storage quota", {
      storageQuota: Number(user.storage_quota),
      storageUsed: Number(user.storage_used) - storageDelta,
      needed: storageDelta,
    });
  }
  const last = BigInt(user.journal_seq);
  const seqs = entries.map((_, i) => last - BigInt(entries.length - 1 - i));
  const seqTexts = seqs.map(String);
  await tx`
    INSERT INTO changes (owner_id, seq, file_id, version)
    SELECT ${ownerId}, seq, file_id, version
    FROM unnest(${seqTexts}::bigint[], ${entries.map((e) => e.fileId)}::uuid[], ${entries.map((e) => e.version)}::int[])
      AS t(seq, file_id, version)`;
  const events = entries.map(
    (entry, i): BusEvent => ({
      type: "file_changed",
      userId: ownerId,
      fileId: entry.fileId,
      version: entry.version,
      action: entry.action,
      deviceId: entry.deviceId,
      syncToken: encodeSyncToken(seqs[i] ?? 0n),
    }),
  );
  await publishEvents(tx, ownerId, events, now);
  return seqs;
}

interface ChangeRow {
  seq: string;
  file_id: string;
  version: number;
  action: FileAction;
  parent_id: string | null;
  name: string;
  is_folder: boolean;
  deleted: boolean;
  size: string;
  created_at: Date;
  device_id: string | null;
  executable: boolean;
  chunks: string[] | null;
}

export interface ChangesSince {
  changes: Change[];
  /** The journal position after the last change returned. */
  lastSeq: bigint;
  hasMore: boolean;
}

/**
 * Up to `limit` changes after journal position `since`, in commit order. One snapshot (repeatable
 * read) for the position check and the page, so the page is consistent with the journal it read.
 */
export async function listChangesSince(
  sql: Sql,
  ownerId: string,
  since: bigint,
  limit: number,
): Promise<ChangesSince> {
  return (await sql.begin("isolation level repeatable read read only", async (tx) => {
    const [user] = await tx<{ journal_seq: string }[]>`SELECT journal_seq FROM users WHERE id = ${ownerId}`;
    if (!user) throw new ApiError("unauthorized", "no such account");
    if (since > BigInt(user.journal_seq)) {
      throw new ApiError("validation_failed", "the sync token is not one this account issued", {
        issues: [{ path: ["since"], message: "unknown sync token" }],
      });
    }
    const rows = await tx<ChangeRow[]>`
      SELECT c.seq, c.file_id, c.version, v.action, v.parent_id, v.name, v.is_folder, v.deleted, v.size,
        v.created_at, v.device_id, v.executable,
        CASE WHEN v.is_folder OR v.deleted THEN NULL ELSE ARRAY(
          SELECT fc.chunk_hash FROM file_chunks fc
          WHERE fc.owner_id = c.owner_id AND fc.file_id = c.file_id AND fc.version = c.version
          ORDER BY fc.chunk_index) END AS chunks
      FROM changes c
      JOIN file_versions v ON v.owner_id = c.owner_id AND v.file_id = c.file_id AND v.version = c.version
      WHERE c.owner_id = ${ownerId} AND c.seq > ${String(since)}
      ORDER BY c.seq
      LIMIT ${limit + 1}`;
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      changes: page.map(toChange),
      lastSeq: last ? BigInt(last.seq) : since,
      hasMore: rows.length > limit,
    };
  })) as ChangesSince;
}

function toChange(row: ChangeRow): Change {
  return {
    fileId: row.file_id,
    action: row.action,
    version: row.version,
    parentId: row.parent_id,
    name: row.name,
    isFolder: row.is_folder,
    size: Number(row.size),
    ...(row.chunks ? { chunks: row.chunks as ChunkHash[], executable: row.executable } : {}),
    updatedAt: row.created_at.toISOString(),
    deviceId: row.device_id,
  };
}
