import { constants } from "node:fs";
import { mkdir, open, readFile, rename, rm, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ChunkHash } from "@wsync/shared-protocol";
import type { RemoteEntry, SyncedEntry } from "../model/types.ts";
import { decodeRecords, encodeRecord } from "./journal.ts";

type Op =
  | ["putSynced", SyncedEntry]
  | ["deleteSynced", string]
  | ["putRemote", RemoteEntry]
  | ["setSyncToken", string | null]
  | ["addUploaded", ChunkHash[]]
  | ["removeUploaded", ChunkHash[]]
  | ["setMeta", string, unknown];

/** Collects the changes of one durable batch. */
export class StateBatch {
  readonly ops: Op[] = [];
  putSynced(entry: SyncedEntry): this {
    this.ops.push(["putSynced", entry]);
    return this;
  }
  deleteSynced(fileId: string): this {
    this.ops.push(["deleteSynced", fileId]);
    return this;
  }
  putRemote(entry: RemoteEntry): this {
    this.ops.push(["putRemote", entry]);
    return this;
  }
  setSyncToken(token: string | null): this {
    this.ops.push(["setSyncToken", token]);
    return this;
  }
  /** Chunks whose upload the storage verified (SHA-256 checked): never sent again after a crash. */
  addUploaded(hashes: ChunkHash[]): this {
    if (hashes.length > 0) this.ops.push(["addUploaded", hashes]);
    return this;
  }
  removeUploaded(hashes: ChunkHash[]): this {
    if (hashes.length > 0) this.ops.push(["removeUploaded", hashes]);
    return this;
  }
  setMeta(key: string, value: unknown): this {
    this.ops.push(["setMeta", key, value]);
    return this;
  }
}

const SNAPSHOT = "snapshot";
const journalName = (generation: number) => `journal-${generation}`;

/**
 * The engine's durable memory, kept outside the synced folder: per file what was last synced, the
 * server's tree as the changes feed told it, the last sync token, and chunks already uploaded.
 *
 * Crash safety: every batch is one checksummed line appended to a journal and fsynced before
 * `commit` resolves. Compaction writes a snapshot to a temporary file, fsyncs and renames it, and only
 * then starts a new journal generation, so a crash at any point leaves a snapshot plus a journal that
 * together hold every committed batch.
 */
export class StateStore {
  readonly synced = new Map<string, SyncedEntry>();
  readonly remote = new Map<string, RemoteEntry>();
  readonly uploaded = new Set<ChunkHash>();
  readonly meta = new Map<string, unknown>();
  syncToken: string | null = null;

  private generation = 0;
  private journal: import("node:fs/promises").FileHandle | undefined;
  private journalBytes = 0;
  private snapshotBytes = 0;
  private queue: Array<{ line: string; done: (error?: unknown) => void }> = [];
  private flushing: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    private readonly compactAtBytes: number,
  ) {}

  static async open(dir: string, options: { compactAtBytes?: number } = {}): Promise<StateStore> {
    await mkdir(dir, { recursive: true });
    const store = new StateStore(dir, options.compactAtBytes ?? 8 * 1024 * 1024);
    await store.load();
    return store;
  }

  private async load(): Promise<void> {
    const snapshotText = await readFile(join(this.dir, SNAPSHOT), "utf8").catch(() => "");
    if (snapshotText) {
      const { records } = decodeRecords(snapshotText);
      const header = records[0] as { generation: number } | undefined;
      if (!header) throw new Error(`the state snapshot in ${this.dir} is damaged`);
      this.generation = header.generation;
      for (const record of records.slice(1)) this.apply(record as Op[]);
      this.snapshotBytes = Buffer.byteLength(snapshotText);
    }
    const journalPath = join(this.dir, journalName(this.generation));
    const journalText = await readFile(journalPath, "utf8").catch(() => "");
    const { records, goodBytes } = decodeRecords(journalText);
    for (const record of records) this.apply(record as Op[]);
    // Cut a torn tail so new batches follow the last whole one.
    if (goodBytes < Buffer.byteLength(journalText)) await truncate(journalPath, goodBytes);
    this.journalBytes = goodBytes;
    this.journal = await open(
      journalPath,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT,
      0o600,
    );
    await rm(join(this.dir, `${SNAPSHOT}.tmp`), { force: true });
    await rm(join(this.dir, journalName(this.generation - 1)), { force: true });
  }

  private apply(ops: Op[]): void {
    for (const op of ops) {
      switch (op[0]) {
        case "putSynced":
          this.synced.set(op[1].fileId, op[1]);
          break;
        case "deleteSynced":
          this.synced.delete(op[1]);
          break;
        case "putRemote":
          this.remote.set(op[1].fileId, op[1]);
          break;
        case "setSyncToken":
          this.syncToken = op[1];
          break;
        case "addUploaded":
          for (const hash of op[1]) this.uploaded.add(hash);
          break;
        case "removeUploaded":
          for (const hash of op[1]) this.uploaded.delete(hash);
          break;
        case "setMeta":
          this.meta.set(op[1], op[2]);
          break;
      }
    }
  }

  /** Applies the batch in memory at once and resolves when it is on disk. */
  async commit(batch: StateBatch): Promise<void> {
    if (batch.ops.length === 0) return;
    this.apply(batch.ops);
    const line = encodeRecord(batch.ops);
    await new Promise<void>((resolve, reject) => {
      this.queue.push({ line, done: (error) => (error ? reject(error) : resolve()) });
      this.flushing ??= this.flush();
    });
  }

  /**
   * Group commit: every batch queued meanwhile shares one write and one fsync. Compaction runs inside
   * this loop, so no batch is ever appended to a journal that compaction is about to drop.
   */
  private async flush(): Promise<void> {
    for (;;) {
      if (
        this.queue.length === 0 &&
        this.journalBytes > Math.max(this.compactAtBytes, this.snapshotBytes * 2)
      ) {
        // A failed compaction is only retried later: the journal still holds everything.
        await this.writeSnapshot().catch(() => {});
      }
      if (this.queue.length === 0) break;
      const pending = this.queue.splice(0);
      const text = pending.map((entry) => entry.line).join("");
      try {
        if (!this.journal) throw new Error("the state store is closed");
        await this.journal.write(text);
        await this.journal.datasync();
        this.journalBytes += Buffer.byteLength(text);
        for (const entry of pending) entry.done();
      } catch (error) {
        for (const entry of pending) entry.done(error);
      }
    }
    this.flushing = undefined;
  }

  /** Writes the whole state as a new snapshot and starts an empty journal. */
  async compact(): Promise<void> {
    while (this.flushing) await this.flushing;
    const snapshot = this.writeSnapshot().finally(() => {
      this.flushing = this.queue.length > 0 ? this.flush() : undefined;
    });
    this.flushing = snapshot;
    await snapshot;
  }

  private async writeSnapshot(): Promise<void> {
    const next = this.generation + 1;
    const lines = [encodeRecord({ generation: next })];
    const token: Op[] = [["setSyncToken", this.syncToken]];
    lines.push(encodeRecord(token));
    for (const entry of this.synced.values()) lines.push(encodeRecord([["putSynced", entry]]));
    for (const entry of this.remote.values()) lines.push(encodeRecord([["putRemote", entry]]));
    if (this.uploaded.size > 0) lines.push(encodeRecord([["addUploaded", [...this.uploaded]]]));
    for (const [key, value] of this.meta) lines.push(encodeRecord([["setMeta", key, value]]));
    const text = lines.join("");
    const temporary = join(this.dir, `${SNAPSHOT}.tmp`);
    await writeFile(temporary, text, { mode: 0o600 });
    const handle = await open(temporary, "r+");
    await handle.sync();
    await handle.close();
    // Open the next journal first: once the snapshot is renamed, it is the one a restart reads.
    const nextJournal = await open(join(this.dir, journalName(next)), "w", 0o600);
    await rename(temporary, join(this.dir, SNAPSHOT));
    await syncDir(this.dir);
    await this.journal?.close();
    await rm(join(this.dir, journalName(this.generation)), { force: true });
    this.journal = await reopenAppend(nextJournal, join(this.dir, journalName(next)));
    this.generation = next;
    this.journalBytes = 0;
    this.snapshotBytes = Buffer.byteLength(text);
  }

  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.journal?.close();
    this.journal = undefined;
  }
}

async function reopenAppend(handle: import("node:fs/promises").FileHandle, path: string) {
  await handle.close();
  return open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
