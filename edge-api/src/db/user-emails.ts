import type { Sql } from "postgres";

/**
 * user_emails: which account an email belongs to (keyed, and distributed under Citus, by the email;
 * users is keyed by id, so its rows for two emails may live on two shards). Registering is a small
 * saga over the two rather than a transaction across them (db/accounts.ts): claim the email
 * (pending), create the user, confirm the email. Every step here is one single-shard statement.
 */

export interface EmailClaim {
  user_id: string;
  state: "pending" | "confirmed";
  claimed_at: Date;
}

export async function readEmailClaim(sql: Sql, email: string): Promise<EmailClaim | null> {
  const [claim] = await sql<EmailClaim[]>`
    SELECT user_id, state, claimed_at FROM user_emails WHERE email = ${email}`;
  return claim ?? null;
}

async function userExists(sql: Sql, userId: string): Promise<boolean> {
  return (await sql`SELECT 1 FROM users WHERE id = ${userId}`).length > 0;
}

/**
 * Claims `email` for `userId` (pending). A pending claim made before `takeoverBefore` whose user does
 * not exist is a register that died before creating its user: it is taken over (compare-and-set, so
 * of two registers taking it over one wins). One whose user does exist died before confirming: it is
 * confirmed, and the email is taken. Returns whether `userId` now holds the claim.
 */
export async function claimEmail(
  sql: Sql,
  email: string,
  userId: string,
  now: Date,
  takeoverBefore: Date,
): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const inserted = await sql`
      INSERT INTO user_emails (email, user_id, state, claimed_at) VALUES (${email}, ${userId}, 'pending', ${now})
      ON CONFLICT (email) DO NOTHING RETURNING 1`;
    if (inserted.length > 0) return true;
    const held = await readEmailClaim(sql, email);
    if (!held) continue; // released meanwhile: claim it afresh
    if (held.state === "confirmed" || held.claimed_at >= takeoverBefore) return false;
    if (await userExists(sql, held.user_id)) {
      await confirmEmail(sql, email, held.user_id);
      return false;
    }
    const taken = await sql`
      UPDATE user_emails SET user_id = ${userId}, claimed_at = ${now}
      WHERE email = ${email} AND user_id = ${held.user_id} AND state = 'pending' AND claimed_at = ${held.claimed_at}
      RETURNING 1`;
    return taken.length > 0;
  }
  return false;
}

/**
 * Confirms `userId`'s claim on `email`, pending or not. False when the claim is no longer its own (a
 * later register took it over while this one was slower than the takeover time).
 */
export async function confirmEmail(sql: Sql, email: string, userId: string): Promise<boolean> {
  const rows = await sql`
    UPDATE user_emails SET state = 'confirmed' WHERE email = ${email} AND user_id = ${userId} RETURNING 1`;
  return rows.length > 0;
}

/** Gives up `userId`'s pending claim on `email` (its register failed before creating the user). */
export async function releaseEmail(sql: Sql, email: string, userId: string): Promise<void> {
  await sql`DELETE FROM user_emails WHERE email = ${email} AND user_id = ${userId} AND state = 'pending'`;
}
