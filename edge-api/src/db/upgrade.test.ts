import { createTestDatabase, type TestDatabase } from "@wsync/test-fixtures";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkInvariants } from "../testing/invariants.ts";
import { findUserByEmail } from "./accounts.ts";
import { ownedLiveChunks } from "./chunks.ts";
import { applyMigrations, loadMigrations } from "./migrate.ts";

// A database at migration 003 holding what the app of that time wrote, upgraded in place (004: chunk
// references per owner; 005: user_emails; 006: executable versions).
let database: TestDatabase;
let sql: Sql;

const hash = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;
const alice = crypto.randomUUID();
const bob = crypto.randomUUID();
const past = new Date(Date.now() - 40 * 24 * 3600 * 1000);
const future = new Date(Date.now() + 24 * 3600 * 1000);
const [shared, alicesOnly, unreferenced, claimed, inFlight] = [1, 2, 3, 4, 5].map(hash) as [
  string,
  string,
  string,
  string,
  string,
];

async function seedAtMigration003(tx: Sql) {
  for (const [id, email] of [
    [alice, "alice@example.com"],
    [bob, "bob@example.com"],
  ] as const) {
    await tx`INSERT INTO users (id, email, password_hash, storage_quota, storage_used, journal_seq)
      VALUES (${id}, ${email}, 'hash', 1000000, 0, 0)`;
    await tx`INSERT INTO devices (owner_id, id, name, token_hash) VALUES (${id}, ${crypto.randomUUID()}, 'laptop', '\\x00')`;
  }
  // Global counts: shared is in alice's version twice and bob's once; unreferenced went to 0 long ago.
  await tx`INSERT INTO chunks (hash, size, reference_count, collectable_after, deleting_since) VALUES
    (${shared}, 10, 3, ${past}, NULL), (${alicesOnly}, 20, 1, ${past}, NULL),
    (${unreferenced}, 30, 0, ${past}, NULL), (${claimed}, 40, 0, ${past}, ${past}),
    (${inFlight}, NULL, 0, ${future}, NULL)`;
  await tx`INSERT INTO chunk_owners (owner_id, hash, verified_at) VALUES
    (${alice}, ${shared}, now()), (${alice}, ${alicesOnly}, now()), (${alice}, ${unreferenced}, now()),
    (${bob}, ${shared}, now())`;
  await tx`INSERT INTO chunk_uploads (owner_id, hash, tag, issued_at) VALUES (${bob}, ${inFlight}, 'tag', now())`;
  let seq = 0;
  const version = async (owner: string, name: string, chunks: string[]) => {
    const fileId = crypto.randomUUID();
    const size = chunks.reduce((total, h) => total + (h === shared ? 10 : 20), 0);
    await tx`INSERT INTO files (owner_id, id, name, is_folder, current_version, size, created_at, updated_at)
      VALUES (${owner}, ${fileId}, ${name}, false, 1, ${size}, now(), now())`;
    await tx`INSERT INTO file_versions (owner_id, file_id, version, action, name, is_folder, deleted, size, created_at)
      VALUES (${owner}, ${fileId}, 1, 'created', ${name}, false, false, ${size}, now())`;
    for (const [i, h] of chunks.entries()) {
      await tx`INSERT INTO file_chunks (owner_id, file_id, version, chunk_index, chunk_hash)
        VALUES (${owner}, ${fileId}, 1, ${i}, ${h})`;
    }
    seq++;
    await tx`INSERT INTO changes (owner_id, seq, file_id, version) VALUES (${owner}, ${seq}, ${fileId}, 1)`;
    await tx`UPDATE users SET journal_seq = ${seq}, storage_used = storage_used + ${size} WHERE id = ${owner}`;
    await tx`INSERT INTO outbox (owner_id, event) VALUES (${owner}, ${tx.json({ type: "file_changed", fileId, version: 1 })})`;
  };
  await version(alice, "a", [shared, alicesOnly, shared]);
  seq = 0;
  await version(bob, "b", [shared]);
}

beforeAll(async () => {
  database = await createTestDatabase();
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
  const migrations = await loadMigrations();
  await applyMigrations(
    sql,
    migrations.filter((m) => m.name < "004"),
  );
  await seedAtMigration003(sql);
  await applyMigrations(sql, migrations);
});
afterAll(async () => {
  await sql?.end();
  await database?.drop();
});

describe("upgrading a database at migration 003 in place", () => {
  it("moves reference counts to their owners and every chunk row to the object list", async () => {
    expect(await checkInvariants(sql)).toEqual([]);
    const owners = await sql`
      SELECT owner_id, hash, size::int, reference_count FROM chunk_owners ORDER BY owner_id = ${alice} DESC, hash`;
    expect(owners).toEqual([
      { owner_id: alice, hash: shared, size: 10, reference_count: 2 },
      { owner_id: alice, hash: alicesOnly, size: 20, reference_count: 1 },
      { owner_id: alice, hash: unreferenced, size: 30, reference_count: 0 },
      { owner_id: bob, hash: shared, size: 10, reference_count: 1 },
    ]);
    const objects = await sql`
      SELECT hash, size::int, deleting_since IS NOT NULL AS claimed, gc_check IS NOT NULL AS marked
      FROM chunk_objects ORDER BY hash`;
    expect(objects).toEqual([
      { hash: shared, size: 10, claimed: false, marked: false },
      { hash: alicesOnly, size: 20, claimed: false, marked: false },
      { hash: unreferenced, size: 30, claimed: false, marked: true },
      { hash: claimed, size: 40, claimed: true, marked: true },
      { hash: inFlight, size: null, claimed: false, marked: true },
    ]);
    expect(await sql`SELECT to_regclass('chunks') AS t`).toEqual([{ t: null }]);
    // Dedup answers from the owner's own rows.
    expect([...(await ownedLiveChunks(sql, bob, [shared, alicesOnly]))]).toEqual([shared]);
  });

  it("gives every existing account its confirmed email, and login finds it", async () => {
    const emails = await sql`SELECT email, user_id, state FROM user_emails ORDER BY email`;
    expect(emails).toEqual([
      { email: "alice@example.com", user_id: alice, state: "confirmed" },
      { email: "bob@example.com", user_id: bob, state: "confirmed" },
    ]);
    expect((await findUserByEmail(sql, "bob@example.com"))?.id).toBe(bob);
    expect(await findUserByEmail(sql, "nobody@example.com")).toBeNull();
  });

  it("a chunk list can no longer name a chunk its owner does not hold", async () => {
    const [file] = await sql`SELECT file_id FROM file_chunks WHERE owner_id = ${bob} LIMIT 1`;
    await expect(
      sql`INSERT INTO file_chunks (owner_id, file_id, version, chunk_index, chunk_hash)
        VALUES (${bob}, ${file?.file_id}, 1, 5, ${alicesOnly})`,
    ).rejects.toMatchObject({ code: "23503" });
  });

  it("marks every existing version not executable", async () => {
    const rows = await sql`SELECT DISTINCT executable FROM file_versions`;
    expect(rows).toEqual([{ executable: false }]);
  });
});
