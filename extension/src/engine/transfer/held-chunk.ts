import { createHash, randomBytes } from "node:crypto";
import { type ChunkHash, chunkHashFromDigest, limits } from "@wsync/shared-protocol";
import { type FileSystem, joinPath, type WriteHandle } from "../fs/types.ts";
import { TEMP_PREFIX } from "../scan/ignore-rules.ts";
import type { ChunkSource } from "./downloader.ts";
import { noteTransferred } from "./garbage-pacer.ts";
import { PIECE_BYTES } from "./range-body.ts";
import { StorageError } from "./retry.ts";

/**
 * A chunk's bytes, verified against its hash, waiting for their turn in the file being written: in
 * memory when small, else in a spill file beside it (a chunk may be 16 MiB, and several are fetched
 * ahead of the writer: holding them whole is what made a big file cost hundreds of MB).
 */
export interface HeldChunk {
  size: number;
  pieces: Uint8Array[];
  /** The spill file holding the bytes instead of `pieces`; the writer deletes it. */
  spill?: string;
}

/** Above this, a chunk's bytes go to a spill file as they arrive. */
export const HOLD_IN_MEMORY_BYTES = 1024 * 1024;

/** Reading a chunk from a source on this disk failed: the next source, or the network, is tried. */
export class SourceError extends Error {
  constructor(readonly reason: unknown) {
    super(`reading a chunk on this disk failed: ${(reason as Error)?.message}`);
    this.name = "SourceError";
  }
}

/** A response body's pieces; a failure while reading it is a storage fault worth another try. */
export async function* networkPieces(response: Response): AsyncGenerator<Uint8Array> {
  if (!response.body) return;
  const reader = response.body.getReader();
  let done = false;
  try {
    while (!done) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (error) {
        done = true;
        throw new StorageError(`GET chunk failed: ${(error as Error).message}`, 0);
      }
      done = result.done;
      if (result.value) {
        noteTransferred(result.value.byteLength);
        yield result.value;
      }
    }
  } finally {
    // Left early (too many bytes, a full disk): the rest is not downloaded.
    if (!done) await reader.cancel().catch(() => {});
  }
}

export async function* sourcePieces(source: ChunkSource): AsyncGenerator<Uint8Array> {
  const iterator = source.pieces()[Symbol.asyncIterator]();
  try {
    for (;;) {
      let result: IteratorResult<Uint8Array>;
      try {
        result = await iterator.next();
      } catch (error) {
        throw new SourceError(error);
      }
      if (result.done) return;
      yield result.value;
    }
  } finally {
    await iterator.return?.()?.catch?.(() => {});
  }
}

/**
 * Takes in a chunk's pieces, hashing them on the way: null when they are not the chunk `hash` names
 * (wrong bytes, or more than a chunk can hold), else the verified bytes. Errors of the pieces pass
 * through; a spill file is never left behind.
 */
export async function holdChunk(
  fs: FileSystem,
  folder: string,
  pieces: AsyncIterable<Uint8Array>,
  hash: ChunkHash,
): Promise<HeldChunk | null> {
  const digest = createHash("sha256");
  let size = 0;
  const pending: Uint8Array[] = [];
  let spill: { path: string; handle: WriteHandle; open: boolean } | undefined;
  // Spilled pieces are copied into one buffer and written from it when full: a concatenation per write
  // was 64 KiB more garbage per 64 KiB received, beside the socket's own piece (issue 5's memory bound).
  let staging: Uint8Array | undefined;
  let staged = 0;
  const stage = async (piece: Uint8Array) => {
    const target = spill as { handle: WriteHandle };
    staging ??= new Uint8Array(PIECE_BYTES);
    for (let at = 0; at < piece.length; ) {
      const n = Math.min(piece.length - at, staging.length - staged);
      staging.set(piece.subarray(at, at + n), staged);
      staged += n;
      at += n;
      if (staged === staging.length) {
        await target.handle.write(staging);
        staged = 0;
      }
    }
  };
  const flush = async () => {
    if (spill && staging && staged > 0) await spill.handle.write(staging.subarray(0, staged));
    staged = 0;
  };
  try {
    for await (const piece of pieces) {
      size += piece.length;
      if (size > limits.chunkMaxBytes) {
        await discardSpill(fs, spill);
        return null;
      }
      digest.update(piece);
      if (spill) {
        await stage(piece);
        continue;
      }
      pending.push(piece);
      if (size > HOLD_IN_MEMORY_BYTES) {
        const path = joinPath(folder, `${TEMP_PREFIX}${randomBytes(8).toString("hex")}`);
        spill = { path, handle: await fs.createExclusive(path, 0o600), open: true };
        for (const held of pending.splice(0)) await stage(held);
      }
    }
    await flush();
    if (spill) {
      spill.open = false;
      await spill.handle.close();
    }
    if (chunkHashFromDigest(digest.digest()) !== hash) {
      await discardSpill(fs, spill);
      return null;
    }
    return spill ? { size, pieces: [], spill: spill.path } : { size, pieces: pending };
  } catch (error) {
    await discardSpill(fs, spill);
    throw error;
  }
}

async function discardSpill(
  fs: FileSystem,
  spill: { path: string; handle: WriteHandle; open: boolean } | undefined,
): Promise<void> {
  if (!spill) return;
  if (spill.open) await spill.handle.close().catch(() => {});
  spill.open = false;
  await fs.unlink(spill.path).catch(() => {});
}

/**
 * Appends a held chunk to the file being written, and deletes its spill file. A spill file is copied
 * through the buffer `copyBuffer` gives (the caller keeps one for a whole download): a fresh 1 MiB per
 * chunk lived through several collections while it copied 16 MiB, so V8 promoted it and only a full
 * collection gave it back; a big download held tens of MiB of them (issue 5).
 */
export async function writeHeld(
  fs: FileSystem,
  target: WriteHandle,
  held: HeldChunk,
  copyBuffer: () => Uint8Array,
): Promise<void> {
  if (!held.spill) {
    await target.write(
      held.pieces.length === 1 ? (held.pieces[0] as Uint8Array) : Buffer.concat(held.pieces),
    );
    return;
  }
  const source = await fs.openRead(held.spill);
  const buffer = copyBuffer();
  try {
    let read = 0;
    while (read < held.size) {
      const piece = buffer.subarray(0, Math.min(buffer.length, held.size - read));
      const n = await source.read(piece, read);
      // Verified when it was written; a spill file cut short since is not taken for the chunk.
      if (n === 0) throw new Error(`spill file ${held.spill} was cut short`);
      await target.write(n === piece.length ? piece : piece.subarray(0, n));
      read += n;
    }
  } finally {
    await source.close().catch(() => {});
    await fs.unlink(held.spill).catch(() => {});
  }
}

export async function discardHeld(fs: FileSystem, held: HeldChunk): Promise<void> {
  if (held.spill) await fs.unlink(held.spill).catch(() => {});
}
