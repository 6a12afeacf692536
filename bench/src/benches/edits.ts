import { mkdtemp, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchConfig } from "../config.ts";
import { seededBytes, writeSeededFile } from "../data.ts";
import { startDevices } from "../devices.ts";
import type { ChunkingOptions } from "../engine.ts";
import { DEFAULT_CHUNKING } from "../engine.ts";
import { type BenchResult, type ResultRow, row } from "../report.ts";
import { rsyncMirror } from "../rsync.ts";
import { startBenchStack } from "../stacks.ts";
import { summarize } from "../stats.ts";

const MiB = 1024 * 1024;
const FIXED: ChunkingOptions = { mode: "fixed", sizes: { min: 4 * MiB, avg: 4 * MiB, max: 4 * MiB } };

interface Edit {
  name: string;
  apply(folder: string, size: number): Promise<void>;
}

const NAME = "big.bin";
const RENAMED = "big-renamed.bin";

/** The same edits in the same order on every contender, each after the previous one synced. */
const EDITS: Edit[] = [
  {
    name: "overwrite 100 B in the middle",
    async apply(folder, size) {
      const handle = await open(join(folder, NAME), "r+");
      await handle.write(seededBytes("overwrite", 100), 0, 100, Math.floor(size / 2));
      await handle.close();
    },
  },
  {
    name: "insert 100 B in the middle",
    async apply(folder) {
      // Rewritten in place (same inode), as an editor that truncates and writes would.
      const bytes = await readFile(join(folder, NAME));
      const middle = Math.floor(bytes.length / 2);
      await writeFile(
        join(folder, NAME),
        Buffer.concat([bytes.subarray(0, middle), seededBytes("insert", 100), bytes.subarray(middle)]),
      );
    },
  },
  {
    name: "append 1 MiB",
    async apply(folder) {
      const handle = await open(join(folder, NAME), "a");
      await handle.write(seededBytes("append", MiB));
      await handle.close();
    },
  },
  {
    name: "rename",
    apply: (folder) => rename(join(folder, NAME), join(folder, RENAMED)),
  },
];

interface Sent {
  chunks: number;
  bytes: number;
}

/** Runs the edits on one engine (a device of its own) and returns what each sent to storage. */
async function engineEdits(
  stack: { apiUrl: string; notifierUrl: string },
  chunking: ChunkingOptions,
  size: number,
  mirror?: string,
): Promise<{ engine: Sent[]; rsync: Sent[] }> {
  const session = await startDevices(stack, 1, { chunking });
  try {
    const [device] = session.devices as [(typeof session.devices)[number]];
    await writeSeededFile(join(device.folder, NAME), size, "edits");
    await device.engine.start();
    if (mirror) await rsyncMirror(device.folder, mirror);
    const engine: Sent[] = [];
    const rsync: Sent[] = [];
    for (const edit of EDITS) {
      await edit.apply(device.folder, size);
      const before = device.engine.status().transfers;
      await device.engine.syncNow();
      const after = device.engine.status();
      if (after.lastError) throw new Error(`${edit.name}: sync failed: ${after.lastError.message}`);
      engine.push({
        chunks: after.transfers.chunksUploaded - before.chunksUploaded,
        bytes: after.transfers.bytesUploaded - before.bytesUploaded,
      });
      if (mirror) {
        const stats = await rsyncMirror(device.folder, mirror);
        rsync.push({ chunks: Number.NaN, bytes: stats.literalBytes });
      }
    }
    return { engine, rsync };
  } finally {
    await session.close();
  }
}

const one = (value: number) => summarize([value]);

/**
 * (2) Bytes sent for small edits of a big file: the real engine syncing to the local stack (what it
 * uploads, counted where it sends), with content-defined chunks and with fixed 4 MiB chunks, beside
 * rsync's literal data for the same edits of the same file. Byte counts do not depend on machine
 * load, so each edit is measured once.
 */
export async function run(config: BenchConfig): Promise<BenchResult> {
  const size = config.editFileBytes;
  const stack = await startBenchStack("local");
  const mirrorRoot = await mkdtemp(join(tmpdir(), "wsync-bench-rsync-"));
  const problems: string[] = [];
  try {
    const cdc = await engineEdits(stack, DEFAULT_CHUNKING, size, mirrorRoot).catch((error) => {
      problems.push(`rsync or the CDC engine failed: ${error}`);
      return null;
    });
    const fixed = await engineEdits(stack, FIXED, size);
    const rows: ResultRow[] = [];
    EDITS.forEach((edit, index) => {
      const c = cdc?.engine[index];
      const f = fixed.engine[index] as Sent;
      const r = cdc?.rsync[index];
      const allowed = edit.name === "rename" ? 0 : 2;
      if (c) {
        rows.push(
          row(
            `${edit.name}: chunks uploaded, CDC`,
            "chunks",
            one(c.chunks),
            { label: "fixed 4 MiB", figure: one(f.chunks) },
            {
              goal: {
                text:
                  allowed === 0
                    ? `${edit.name}: zero chunks (CDC)`
                    : `${edit.name}: at most ${allowed} chunks (CDC)`,
                met: c.chunks <= allowed,
              },
            },
          ),
        );
      }
      const rsyncRef = r ? { label: "rsync literal data", figure: one(r.bytes / MiB) } : undefined;
      if (c) rows.push(row(`${edit.name}: bytes uploaded, CDC`, "MiB", one(c.bytes / MiB), rsyncRef));
      rows.push(row(`${edit.name}: bytes uploaded, fixed 4 MiB`, "MiB", one(f.bytes / MiB), rsyncRef));
    });
    return {
      id: "edits",
      title: "2. Bytes on the wire for edits of a big file",
      setup: `A ${(size / MiB).toFixed(0)} MiB file synced by the engine to the local stack, then each edit synced in turn (syncNow); chunk bytes PUT to storage as the engine counts them. CDC = FastCDC min/avg/max 1/4/16 MiB; fixed = 4 MiB. rsync: \`rsync -a -I --delete --no-whole-file --stats\` of the same folder to a local mirror after each edit (no --fuzzy, so a rename is sent whole).`,
      rows,
      problems,
    };
  } finally {
    await stack.close();
    await rm(mirrorRoot, { recursive: true, force: true });
  }
}
