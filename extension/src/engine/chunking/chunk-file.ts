import { type ChunkHash, chunkHashFromDigest } from "@wsync/shared-protocol";
import type { FileStat, FileSystem, ReadHandle } from "../fs/types.ts";
import { type ChunkingOptions, createBoundaryFinder, DEFAULT_CHUNKING } from "./chunker.ts";
import { type ChunkHasher, InlineHasher, WORKER_BLOCK_BYTES } from "./hasher.ts";
import type { FileChunks } from "./parts.ts";

/** One chunk of a file: its hash and where its bytes are. */
export interface ChunkRef {
  hash: ChunkHash;
  offset: number;
  size: number;
}

export interface ChunkedFile {
  chunks: ChunkRef[];
  size: number;
  /** The file's stat while it was read, unchanged from the first byte to the last. */
  stat: FileStat;
}

/** A file kept changing while it was read, attempt after attempt: try again when it settles. */
export class FileUnstableError extends Error {
  readonly code = "file_unstable" as const;
  constructor(readonly path: string) {
    super(`${path} kept changing while it was read`);
    this.name = "FileUnstableError";
  }
}

export interface ChunkFileOptions {
  chunking?: ChunkingOptions;
  hasher?: ChunkHasher;
  /** Bytes read at a time; memory per file is a few of these. */
  blockSize?: number;
  attempts?: number;
}

const inline = new InlineHasher();
/** Below this a file is hashed on the calling thread: a worker round trip would cost more. */
const SMALL_FILE_BYTES = 512 * 1024;

function sameStat(a: FileStat, b: FileStat | null): boolean {
  return (
    b !== null &&
    a.kind === b.kind &&
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.ctimeMs === b.ctimeMs &&
    a.inode === b.inode
  );
}

/**
 * Splits a file into chunks and hashes each, streaming: memory stays a few blocks whatever the size.
 * A file that changes while it is read (its stat moves, or it ends elsewhere than its size said) is
 * read again, up to `attempts` times.
 */
export async function chunkFile(
  fs: FileSystem,
  path: string,
  options: ChunkFileOptions = {},
): Promise<ChunkedFile> {
  const attempts = options.attempts ?? 3;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const result = await readOnce(fs, path, options);
    if (result) return result;
  }
  throw new FileUnstableError(path);
}

async function sameStatAfter(fs: FileSystem, path: string, before: FileStat): Promise<boolean> {
  return sameStat(before, await fs.lstat(path));
}

function chunkedFile({ ends, digests }: FileChunks, stat: FileStat): ChunkedFile {
  let start = 0;
  const chunks = ends.map((end, index): ChunkRef => {
    const ref = { hash: chunkHashFromDigest(digests[index] as Uint8Array), offset: start, size: end - start };
    start = end;
    return ref;
  });
  return { chunks, size: start, stat };
}

async function readOnce(
  fs: FileSystem,
  path: string,
  options: ChunkFileOptions,
): Promise<ChunkedFile | null> {
  const chunking = options.chunking ?? DEFAULT_CHUNKING;
  const handle = await fs.openRead(path);
  try {
    const before = await handle.stat();
    const hasher: ChunkHasher = before.size < SMALL_FILE_BYTES ? inline : (options.hasher ?? inline);
    let found: FileChunks = { ends: [], digests: [] };
    if (handle.fd !== undefined && chunking.mode === "cdc") {
      const inParts = await hasher.chunkInParts?.(handle.fd, before.size, chunking.sizes);
      if (inParts === null) return null;
      if (inParts) found = inParts;
    }
    // Whatever the parts left (all of it, when there were none) is streamed from the last true cut.
    const from = found.ends[found.ends.length - 1] ?? 0;
    if (from < before.size || before.size === 0) {
      const rest = await streamChunks(
        handle,
        hasher,
        chunking,
        options.blockSize ?? WORKER_BLOCK_BYTES,
        from,
        before.size,
      );
      if (!rest) return null;
      found = { ends: [...found.ends, ...rest.ends], digests: [...found.digests, ...rest.digests] };
    }
    return (await sameStatAfter(fs, path, before)) ? chunkedFile(found, before) : null;
  } finally {
    await handle.close();
  }
}

/**
 * Chunks bytes [from, size) of an open file as if a chunk began at `from`: the main thread reads
 * and finds cuts while the hasher hashes. Null when the file does not end at `size`.
 */
async function streamChunks(
  handle: ReadHandle,
  hasher: ChunkHasher,
  chunking: ChunkingOptions,
  blockSize: number,
  from: number,
  size: number,
): Promise<FileChunks | null> {
  const finder = createBoundaryFinder(chunking);
  const stream = hasher.begin();
  const ends: number[] = [];
  let position = from;
  const readBlock = async (at: number): Promise<Uint8Array> => {
    // At the expected end, a one-byte probe tells whether the file grew meanwhile.
    const remaining = size - at;
    const length = Math.min(blockSize, remaining);
    // A free buffer now means the read starts before this block's cut-point scan, not after it.
    const block =
      remaining > 0 ? (stream.tryAcquire(length) ?? (await stream.acquire(length))) : new Uint8Array(1);
    const read = await handle.read(block, at);
    return read === block.length ? block : block.subarray(0, read);
  };
  let next: Promise<Uint8Array> | undefined = readBlock(from);
  try {
    for (;;) {
      const data: Uint8Array = await next;
      next = undefined;
      if (data.length === 0) break;
      const start = position;
      position += data.length;
      if (position > size) break;
      // Read ahead: the next block loads on libuv's thread pool while this one is cut and handed
      // to the hasher, so reading costs the pipeline almost nothing.
      next = readBlock(position);
      const cuts: number[] = [];
      finder.push(data, cuts);
      for (const cut of cuts) ends.push(start + cut);
      await stream.write(data, cuts);
    }
    if (position !== size) {
      stream.abort();
      return null;
    }
    if (position > (ends[ends.length - 1] ?? from)) {
      ends.push(position);
      // The tail chunk ends at end of file: close it with an empty block carrying its cut.
      await stream.write(new Uint8Array(0), [0]);
    }
    return { ends, digests: await stream.finish() };
  } catch (error) {
    // A read still running must end before the handle closes under it, and before its buffer goes
    // back to the hasher for another stream to read into.
    await next?.catch(() => {});
    stream.abort();
    throw error;
  }
}

/** Chunk hashes of bytes in memory (tests, small content). */
export async function chunkBytes(
  data: Uint8Array,
  chunking: ChunkingOptions = DEFAULT_CHUNKING,
): Promise<ChunkRef[]> {
  const finder = createBoundaryFinder(chunking);
  const cuts: number[] = [];
  finder.push(data, cuts);
  if (data.length > (cuts[cuts.length - 1] ?? 0)) cuts.push(data.length);
  const stream = inline.begin();
  await stream.write(data, cuts);
  const digests = await stream.finish();
  let start = 0;
  return cuts.map((end, index) => {
    const ref = { hash: chunkHashFromDigest(digests[index] as Uint8Array), offset: start, size: end - start };
    start = end;
    return ref;
  });
}
