import { ApiError } from "@wsync/shared-protocol";
import { createTestDatabase, type TestDatabase } from "@wsync/test-fixtures";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { liveSiblings } from "./file-batch-reads.ts";
import { expectFreeName } from "./file-rows.ts";
import { migrate } from "./migrate.ts";

let database: TestDatabase;
let sql: Sql;
const ownerId = crypto.randomUUID();
const FOLDERS = 40;
const FILES_PER_FOLDER = 100;
const folderIds = Array.from({ length: FOLDERS }, () => crypto.randomUUID());

beforeAll(async () => {
  database = await createTestDatabase();
  await migrate(database.url);
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
  await sql`INSERT INTO users (id, email, password_hash, storage_quota) VALUES (${ownerId}, 'reads@example.com', 'x', 1)`;
  await sql`
    INSERT INTO files (owner_id, id, parent_id, name, is_folder, current_version, created_at, updated_at)
    SELECT ${ownerId}, id, NULL, 'folder-' || i, true, 1, now(), now()
    FROM unnest(${folderIds}::uuid[]) WITH ORDINALITY AS t(id, i)`;
  await sql`
    INSERT INTO files (owner_id, id, parent_id, name, is_folder, current_version, created_at, updated_at)
    SELECT ${ownerId}, gen_random_uuid(), p.id, 'file-' || n, false, 1, now(), now()
    FROM unnest(${folderIds}::uuid[]) AS p(id), generate_series(1, ${FILES_PER_FOLDER}) AS n`;
  // No ANALYZE: a first sync creates thousands of rows faster than autovacuum's statistics follow.
});
afterAll(async () => {
  await sql?.end();
  await database?.drop();
});

/** Rows of `files` this transaction has read so far, through any index or a sequential scan. */
async function rowsRead(tx: postgres.TransactionSql): Promise<number> {
  const [row] = await tx<{ read: string }[]>`
    SELECT coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0) AS read
    FROM pg_stat_xact_user_tables WHERE relname = 'files'`;
  return Number(row?.read ?? 0);
}

describe("liveSiblings", () => {
  it("finds live items by folder and name, in folders and in the root", async () => {
    const found = await sql.begin((tx) =>
      liveSiblings(tx, ownerId, [
        { index: 0, parentId: folderIds[3] as string, name: "file-7" },
        { index: 1, parentId: folderIds[3] as string, name: "no-such-file" },
        { index: 2, parentId: null, name: "folder-5" },
        { index: 3, parentId: null, name: "folder-999" },
      ]),
    );
    expect([...found.keys()].sort()).toEqual([0, 2]);
    const [folder] = await sql<{ id: string }[]>`
      SELECT id FROM files WHERE owner_id = ${ownerId} AND parent_id IS NULL AND name = 'folder-5'`;
    expect(found.get(2)).toBe(folder?.id);
  });

  it("reads only the named folders' rows, not the owner's whole tree", async () => {
    const queries = [0, 1, 2, 3].map((i) => ({ index: i, parentId: folderIds[i] as string, name: "file-1" }));
    const read = await sql.begin(async (tx) => {
      const before = await rowsRead(tx);
      await liveSiblings(tx, ownerId, queries);
      return (await rowsRead(tx)) - before;
    });
    // At most each named folder's own rows (100 each); a join over the owner reads all 4,040.
    expect(read).toBeLessThanOrEqual(queries.length * FILES_PER_FOLDER);
  });
});

describe("expectFreeName", () => {
  it("refuses a taken name in a folder and in the root, and allows a free one or the item itself", async () => {
    await sql.begin(async (tx) => {
      const folder = folderIds[2] as string;
      const taken = await expectFreeName(tx, ownerId, folder, "file-3").catch((error: unknown) => error);
      expect(taken).toBeInstanceOf(ApiError);
      expect((taken as ApiError).code).toBe("name_conflict");
      const rootTaken = await expectFreeName(tx, ownerId, null, "folder-1").catch((error: unknown) => error);
      expect((rootTaken as ApiError).code).toBe("name_conflict");
      await expectFreeName(tx, ownerId, folder, "file-0");
      await expectFreeName(tx, ownerId, null, "folder-0");
      await expectFreeName(tx, ownerId, null, "folder-1", folderIds[0]);
    });
  });

  it("reads only the named folder's rows, not the owner's whole tree", async () => {
    const read = await sql.begin(async (tx) => {
      const before = await rowsRead(tx);
      await expectFreeName(tx, ownerId, folderIds[5] as string, "new-name");
      return (await rowsRead(tx)) - before;
    });
    expect(read).toBeLessThanOrEqual(FILES_PER_FOLDER);
  });
});
