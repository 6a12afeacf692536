import { ApiClient, NetworkError, type VersionReceipt } from "@wsync/shared-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failure } from "../testing/failure.ts";
import { createHarness, type Harness, unusedStorage } from "../testing/harness.ts";
import { createApp } from "./app.ts";
import { REPLAYED_HEADER } from "./idempotency.ts";

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ storage: unusedStorage });
});
afterAll(() => h?.close());

/** A client whose next answers are lost on the way back: the server ran the request, the client never hears. */
function lossyClient(token: string, app = h.app) {
  let losses = 0;
  const replayed: boolean[] = [];
  const statuses: number[] = [];
  const client = new ApiClient({
    baseUrl: "http://edge.test",
    token,
    fetch: async (input, init) => {
      const response = await app.request(input, init);
      replayed.push(response.headers.get(REPLAYED_HEADER) === "true");
      statuses.push(response.status);
      if (losses > 0) {
        losses--;
        await response.text();
        throw new TypeError("the connection was reset");
      }
      return response;
    },
  });
  return {
    client,
    replayed,
    statuses,
    loseNext: (n = 1) => {
      losses = n;
    },
  };
}

async function lost(promise: Promise<unknown>) {
  await expect(promise).rejects.toBeInstanceOf(NetworkError);
}

const key = (what: string) => `${what}-${crypto.randomUUID()}`;

describe("Idempotency-Key: a retry after a lost answer", () => {
  it("create, commit, move, delete and restore each run once and answer the retry with the first answer", async () => {
    const { token, client: plain } = await h.signUp();
    const { client, replayed, statuses, loseNext } = lossyClient(token);
    const once = async (run: (k: string) => Promise<VersionReceipt>) => {
      const k = key("op");
      loseNext();
      await lost(run(k));
      const answer = await run(k);
      expect(replayed.at(-1)).toBe(true);
      return answer;
    };

    const created = await once((k) =>
      client.createFile(
        { parentId: null, name: "a.txt", isFolder: false, chunks: [] },
        { idempotencyKey: k },
      ),
    );
    // The replayed create answers 201 like the first (the stored status, not a default 200).
    expect(statuses).toEqual([201, 201]);
    const committed = await once((k) =>
      client.commit(created.fileId, { version: 2, chunks: [] }, { idempotencyKey: k }),
    );
    expect(committed.version).toBe(2);
    const moved = await once((k) =>
      client.moveFile(created.fileId, { version: 3, name: "b.txt" }, { idempotencyKey: k }),
    );
    expect(moved.version).toBe(3);
    const deleted = await once((k) => client.deleteFile(created.fileId, 4, { idempotencyKey: k }));
    expect(deleted.version).toBe(4);
    const restored = await once((k) =>
      client.restore(created.fileId, { version: 5, fromVersion: 3 }, { idempotencyKey: k }),
    );
    expect(restored.version).toBe(5);

    const { versions } = await plain.listVersions(created.fileId);
    expect(versions.map((v) => [v.version, v.action])).toEqual([
      [5, "created"],
      [4, "deleted"],
      [3, "moved"],
      [2, "modified"],
      [1, "created"],
    ]);
    const { changes } = await plain.changes();
    expect(changes.map((c) => c.version)).toEqual([1, 2, 3, 4, 5]);
    const files =
      await h.sql`SELECT count(*)::int AS n FROM files WHERE owner_id = ${(await plain.me()).userId}`;
    expect(files[0]?.n).toBe(1);
  });

  it("a retry through another instance and another host name gets the stored answer", async () => {
    const { token } = await h.signUp();
    const other = createApp({ ...h.deps });
    const first = lossyClient(token);
    const k = key("create");
    first.loseNext();
    await lost(first.client.createFile({ parentId: null, name: "x", isFolder: true }, { idempotencyKey: k }));
    const elsewhere = new ApiClient({
      baseUrl: "http://another-balancer.test",
      token,
      fetch: async (input, init) => other.request(input, init),
    });
    const answer = await elsewhere.createFile(
      { parentId: null, name: "x", isFolder: true },
      { idempotencyKey: k },
    );
    const rows = await h.sql`SELECT id FROM files WHERE owner_id = ${(await elsewhere.me()).userId}`;
    expect(rows.map((r) => r.id)).toEqual([answer.fileId]);
  });

  it("the answer is stored by the change's own transaction: if storing it fails, the change is rolled back too", async () => {
    const { client, userId } = await h.signUp();
    const file = await client.createFile({ parentId: null, name: "f", isFolder: false, chunks: [] });
    await h.sql.unsafe(`
      CREATE FUNCTION fail_key_insert() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'injected failure after the change, before the answer'; END $$;
      CREATE TRIGGER fail_key_insert BEFORE INSERT ON idempotency_keys
        FOR EACH ROW EXECUTE FUNCTION fail_key_insert();`);
    const k = key("commit");
    try {
      const crashed = await failure(
        client.commit(file.fileId, { version: 2, chunks: [] }, { idempotencyKey: k }),
      );
      expect(crashed.code).toBe("internal");
    } finally {
      await h.sql.unsafe(
        "DROP TRIGGER fail_key_insert ON idempotency_keys; DROP FUNCTION fail_key_insert();",
      );
    }
    expect((await client.getFile(file.fileId)).version).toBe(1);
    // The retry is the first run that counts: it commits version 2, once.
    expect(await client.commit(file.fileId, { version: 2, chunks: [] }, { idempotencyKey: k })).toMatchObject(
      {
        version: 2,
      },
    );
    expect(await client.commit(file.fileId, { version: 2, chunks: [] }, { idempotencyKey: k })).toMatchObject(
      {
        version: 2,
      },
    );
    const versions =
      await h.sql`SELECT version FROM file_versions WHERE owner_id = ${userId} ORDER BY version`;
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
  });

  it("concurrent duplicates (same key, same request) all get the one answer: one version, no conflict, no 429", async () => {
    const { client, userId } = await h.signUp();
    const file = await client.createFile({ parentId: null, name: "c", isFolder: false, chunks: [] });
    const k = key("commit");
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        client.commit(file.fileId, { version: 2, chunks: [] }, { idempotencyKey: k }),
      ),
    );
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    const createKey = key("create");
    const creates = await Promise.all(
      Array.from({ length: 12 }, () =>
        client.createFile({ parentId: null, name: "d", isFolder: true }, { idempotencyKey: createKey }),
      ),
    );
    expect(new Set(creates.map((a) => a.fileId)).size).toBe(1);
    const versions = await h.sql`
      SELECT file_id, count(*)::int AS n FROM file_versions WHERE owner_id = ${userId} GROUP BY file_id`;
    expect(versions.map((v) => v.n).sort()).toEqual([1, 2]);
  });

  it("a concurrent duplicate with a different body under the same key is refused, not run", async () => {
    const { client, userId } = await h.signUp();
    const file = await client.createFile({ parentId: null, name: "e", isFolder: false, chunks: [] });
    const k = key("commit");
    const outcomes = await Promise.allSettled([
      client.commit(file.fileId, { version: 2, chunks: [] }, { idempotencyKey: k }),
      client.moveFile(file.fileId, { version: 2, name: "e2" }, { idempotencyKey: k }),
    ]);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    const refused = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason.code).toBe("idempotency_key_reused");
    const rows = await h.sql`SELECT count(*)::int AS n FROM file_versions WHERE owner_id = ${userId}`;
    expect(rows[0]?.n).toBe(2);
  });
});
