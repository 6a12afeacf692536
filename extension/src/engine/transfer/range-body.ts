import { createHash } from "node:crypto";
import { type ChunkHash, chunkHashFromDigest } from "@wsync/shared-protocol";
import type { FileSystem, ReadHandle } from "../fs/types.ts";

/** Bytes read from disk at a time: a chunk of 16 MiB is never held whole. */
export const PIECE_BYTES = 64 * 1024;

/**
 * Pieces a request body reads into in turn. A fetch reads its body in order and sends a piece (the
 * socket took it, or it waited for 'drain') before it asks for the one after next, so a piece is free
 * again two reads later; four leave a spare. A fresh piece per read was garbage awaiting a GC: a
 * 0.25 GiB upload's device process peaked at 131 MiB with it, 108 MiB without. Should a fetch ever keep
 * a piece longer, what it sends no longer hashes to the signed x-amz-checksum-sha256 and storage
 * refuses the PUT: never wrong bytes stored, only a retry.
 */
const BODY_PIECES = 4;

/** The range no longer holds the bytes its hash names (the file changed or shrank since the scan). */
export class RangeChangedError extends Error {
  constructor(readonly path: string) {
    super(`${path} changed since it was scanned`);
    this.name = "RangeChangedError";
  }
}

/**
 * A request body of `size` bytes at `offset` in an open file, read a piece at a time and hashed on the
 * way. The last piece is held back until the whole range hashed to `hash`: on a mismatch the stream
 * errors before the body is complete, so storage never receives a whole body of the wrong bytes.
 * Closes the handle when it ends, fails or is cancelled; `close` does so too (once), for a request
 * that failed without reading its body to the end.
 */
export function verifiedRangeBody(
  handle: ReadHandle,
  path: string,
  offset: number,
  size: number,
  hash: ChunkHash,
  /** Told why the stream failed (a fetch reports only that its body did). */
  onError: (error: unknown) => void,
): { body: ReadableStream<Uint8Array>; close: () => Promise<void> } {
  const digest = createHash("sha256");
  const pieces = Array.from({ length: BODY_PIECES }, () => new Uint8Array(PIECE_BYTES));
  let turn = 0;
  let read = 0;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close().catch(() => {});
  };
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (read === size) {
            await close();
            controller.close();
            return;
          }
          const reused = pieces[turn++ % BODY_PIECES] as Uint8Array;
          const piece = reused.subarray(0, Math.min(PIECE_BYTES, size - read));
          const n = await handle.read(piece, offset + read);
          if (n === 0) throw new RangeChangedError(path);
          const bytes = n === piece.length ? piece : piece.subarray(0, n);
          digest.update(bytes);
          read += n;
          if (read === size && chunkHashFromDigest(digest.digest()) !== hash)
            throw new RangeChangedError(path);
          controller.enqueue(bytes);
        } catch (error) {
          await close();
          onError(error);
          controller.error(error);
        }
      },
      async cancel() {
        await close();
      },
    },
    { highWaterMark: 1 },
  );
  return { body, close };
}

/** The pieces of `size` bytes at `offset` in a workspace file (fewer at the end of a shorter file). */
export async function* rangePieces(
  fs: FileSystem,
  path: string,
  offset: number,
  size: number,
): AsyncGenerator<Uint8Array> {
  const handle = await fs.openRead(path);
  try {
    let read = 0;
    while (read < size) {
      const piece = new Uint8Array(Math.min(PIECE_BYTES, size - read));
      const n = await handle.read(piece, offset + read);
      if (n === 0) return;
      read += n;
      yield n === piece.length ? piece : piece.subarray(0, n);
    }
  } finally {
    await handle.close();
  }
}
