import { encodeSyncToken } from "@wsync/shared-protocol";
import type { Sql } from "postgres";

/** The user's newest journal sequence (`users.journal_seq`, bumped by each change transaction). */
export async function newestSequence(sql: Sql, userId: string): Promise<bigint> {
  const rows = await sql<{ journal_seq: string }[]>`SELECT journal_seq FROM users WHERE id = ${userId}`;
  return BigInt(rows[0]?.journal_seq ?? 0);
}

export async function newestSyncToken(sql: Sql, userId: string): Promise<string> {
  return encodeSyncToken(await newestSequence(sql, userId));
}
