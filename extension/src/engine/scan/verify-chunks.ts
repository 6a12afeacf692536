import { createHash } from "node:crypto";
import { chunkHashFromDigest } from "@wsync/shared-protocol";
import type { ChunkRef } from "../chunking/chunk-file.ts";
import { type FileStat, type FileSystem, unchangedStat } from "../fs/types.ts";

const BLOCK_BYTES = 1024 * 1024;

/**
 * Whether the file at `path` still holds exactly these chunks, read once with one 1 MiB buffer and
 * hashed on this thread: a file whose stat is unchanged but cannot vouch for its bytes (racily clean)
 * is checked against the chunks already known instead of being cut and hashed again. That costs
 * SHA-256 alone, with no boundary search and no hashing worker to start (a file the engine has just
 * downloaded is checked so, and a worker would add ~13 MiB to the process for it).
 *
 * Returns the file's stat when every chunk matches and the stat held from the first byte to the last;
 * null when anything differs (the caller then reads the file in full).
 */
export async function verifyChunks(
  fs: FileSystem,
  path: string,
  chunks: readonly ChunkRef[],
  expected: Pick<FileStat, "size" | "mtimeMs" | "inode">,
): Promise<FileStat | null> {
  const handle = await fs.openRead(path);
  try {
    const before = await handle.stat();
    if (!unchangedStat(before, expected)) return null;
    const total = chunks.reduce((sum, chunk) => sum + chunk.size, 0);
    if (total !== before.size) return null;
    const buffer = new Uint8Array(Math.min(BLOCK_BYTES, Math.max(1, before.size)));
    let position = 0;
    for (const chunk of chunks) {
      if (chunk.offset !== position) return null;
      const hash = createHash("sha256");
      for (let left = chunk.size; left > 0; ) {
        const read = await handle.read(buffer.subarray(0, Math.min(buffer.length, left)), position);
        if (read === 0) return null;
        hash.update(buffer.subarray(0, read));
        position += read;
        left -= read;
      }
      if (chunkHashFromDigest(hash.digest()) !== chunk.hash) return null;
    }
    // Grown since the stat: one byte past the end says so.
    if ((await handle.read(new Uint8Array(1), position)) !== 0) return null;
    const after = await fs.lstat(path);
    return after && unchangedStat(after, before) && after.ctimeMs === before.ctimeMs ? before : null;
  } finally {
    await handle.close();
  }
}
