import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChunkHash, chunkHashFromDigest } from "@wsync/shared-protocol";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SyncedEntry } from "../model/types.ts";
import { StateBatch, StateStore } from "./state-store.ts";

const hash = (n: number) => chunkHashFromDigest(new Uint8Array(32).fill(n)) as ChunkHash;

function entry(fileId: string, version = 1, name = `${fileId}.txt`): SyncedEntry {
  return {
    fileId,
    parentId: null,
    name,
    isFolder: false,
    version,
    chunks: [hash(version % 256)],
    chunkSizes: [10],
    size: 10,
    mtimeMs: 1000.5,
    ctimeMs: 1000.5,
    inode: 42,
    mode: 0o644,
  };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "wsync-state-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("StateStore", () => {
  it("keeps synced entries, the sync token and uploaded chunks across a restart", async () => {
    const store = await StateStore.open(dir);
    await store.commit(
      new StateBatch()
        .putSynced(entry("a"))
        .setSyncToken("c1.9")
        .addUploaded([hash(1)]),
    );
    await store.commit(new StateBatch().putSynced(entry("b", 3, "résumé 日本.txt")).deleteSynced("a"));
    await store.close();
    const again = await StateStore.open(dir);
    expect([...again.synced.keys()]).toEqual(["b"]);
    expect(again.synced.get("b")).toEqual(entry("b", 3, "résumé 日本.txt"));
    expect(again.syncToken).toBe("c1.9");
    expect(again.uploaded.has(hash(1))).toBe(true);
    await again.close();
  });

  it("drops a torn last batch whole and keeps appending after the last good one", async () => {
    const store = await StateStore.open(dir);
    await store.commit(new StateBatch().putSynced(entry("a")));
    await store.close();
    // A crash in the middle of writing the next batch: half a line, no newline.
    const journal = (await readdir(dir)).find((name) => name.startsWith("journal-")) as string;
    await appendFile(join(dir, journal), '0badc0de [["putSynced",{"fileId":"b"');
    const reopened = await StateStore.open(dir);
    expect([...reopened.synced.keys()]).toEqual(["a"]);
    await reopened.commit(new StateBatch().putSynced(entry("c")));
    await reopened.close();
    const last = await StateStore.open(dir);
    expect([...last.synced.keys()].sort()).toEqual(["a", "c"]);
    await last.close();
  });

  it("ignores a batch whose checksum does not match (a corrupted line) and everything after it", async () => {
    const store = await StateStore.open(dir);
    await store.commit(new StateBatch().putSynced(entry("a")));
    await store.commit(new StateBatch().putSynced(entry("b")));
    await store.close();
    const journal = (await readdir(dir)).find((name) => name.startsWith("journal-")) as string;
    const text = await readFile(join(dir, journal), "utf8");
    await writeFile(join(dir, journal), text.replace('"fileId":"b"', '"fileId":"x"'));
    const reopened = await StateStore.open(dir);
    expect([...reopened.synced.keys()]).toEqual(["a"]);
    await reopened.close();
  });

  it("compacts into a snapshot and a fresh journal without losing or reviving anything", async () => {
    const store = await StateStore.open(dir, { compactAtBytes: 2000 });
    for (let i = 0; i < 60; i++) await store.commit(new StateBatch().putSynced(entry(`f${i % 7}`, i + 1)));
    await store.commit(new StateBatch().deleteSynced("f3").setSyncToken("c1.z"));
    await store.compact();
    const files = await readdir(dir);
    expect(files).toContain("snapshot");
    expect(files.filter((name) => name.startsWith("journal-"))).toHaveLength(1);
    const expected = new Map(store.synced);
    await store.close();
    const again = await StateStore.open(dir);
    expect(again.synced).toEqual(expected);
    expect(again.synced.has("f3")).toBe(false);
    expect(again.syncToken).toBe("c1.z");
    await again.close();
  });

  it("recovers from a crash between writing the snapshot and dropping the old journal", async () => {
    const store = await StateStore.open(dir);
    await store.commit(new StateBatch().putSynced(entry("a", 1)));
    await store.commit(new StateBatch().putSynced(entry("a", 2)));
    await store.close();
    const oldJournal = await readFile(join(dir, "journal-0"), "utf8");
    const compacting = await StateStore.open(dir);
    await compacting.compact();
    await compacting.commit(new StateBatch().putSynced(entry("b", 1)));
    await compacting.close();
    // Put the previous generation's journal back, as if the crash came before it was removed.
    await writeFile(join(dir, "journal-0"), oldJournal);
    const again = await StateStore.open(dir);
    expect(again.synced.get("a")?.version).toBe(2);
    expect(again.synced.has("b")).toBe(true);
    await again.close();
  });

  it("groups concurrent batches and applies every one of them, in order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom("a", "b", "c"), fc.integer({ min: 1, max: 50 }), fc.boolean()), {
          maxLength: 40,
        }),
        async (ops) => {
          const sub = await mkdtemp(join(dir, "p-"));
          const store = await StateStore.open(sub, { compactAtBytes: 1500 });
          await Promise.all(
            ops.map(([id, version, remove]) =>
              store.commit(
                remove ? new StateBatch().deleteSynced(id) : new StateBatch().putSynced(entry(id, version)),
              ),
            ),
          );
          const expected = new Map<string, number>();
          for (const [id, version, remove] of ops) remove ? expected.delete(id) : expected.set(id, version);
          await store.close();
          const again = await StateStore.open(sub);
          expect(new Map([...again.synced].map(([id, e]) => [id, e.version]))).toEqual(expected);
          await again.close();
        },
      ),
      { numRuns: 30 },
    );
  });
});
