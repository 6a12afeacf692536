/**
 * Chunking one big file on several threads at once. FastCDC is sequential (each cut depends on the
 * one before), but it starts afresh after every cut, so two runs over the same bytes that share one
 * cut share every cut after it. Each thread chunks a part of the file as if a chunk began at the
 * part's start and runs on past the next part's start; where its cuts first meet the next part's,
 * the next part's cuts (and digests) are the true ones from there on. The joined chunks are exactly
 * those of one sequential run: after a part that never meets its neighbour (runs of identical bytes,
 * such as a sparse file's zeros, cut every maximum size from each part's own start) the rest is
 * chunked again from the last true cut.
 */

/** Chunk ends (exclusive file offsets) and the SHA-256 of each chunk, in order. */
export interface FileChunks {
  ends: number[];
  digests: Uint8Array[];
}

/** One thread's share: chunk from `start` as if a chunk began there, to the first cut at or past `stopAfter`. */
export interface Part {
  start: number;
  stopAfter: number;
}

/**
 * Parts of equal length, counting the overlap each but the last runs past its neighbour's start, so
 * the threads finish together. The last part runs to the end of the file (`size`).
 */
export function planParts(size: number, count: number, overlap: number): Part[] {
  const length = Math.ceil((size + (count - 1) * overlap) / count);
  const starts = Array.from({ length: count }, (_, index) =>
    Math.min(size, Math.max(0, index * (length - overlap))),
  );
  return starts.map((start, index) => ({
    start,
    stopAfter: index === count - 1 ? size : Math.min(size, (starts[index + 1] as number) + overlap),
  }));
}

/**
 * Joins each part's chunks to the true ones before it, at the first cut they share. The result runs
 * to the end of the file (`size`), or, when a part never met the one after it, to the last true cut:
 * the rest must be chunked again from there.
 */
export function joinParts(size: number, parts: readonly Part[], results: readonly FileChunks[]): FileChunks {
  let ends = [...(results[0] as FileChunks).ends];
  let digests = [...(results[0] as FileChunks).digests];
  for (let index = 1; index < parts.length; index++) {
    if (ends[ends.length - 1] === size) break;
    const start = (parts[index] as Part).start;
    const next = results[index] as FileChunks;
    const position = new Map(next.ends.map((end, at) => [end, at]));
    const shared = ends.findIndex((end) => end > start && position.has(end));
    if (shared < 0) break;
    const from = (position.get(ends[shared] as number) as number) + 1;
    ends = [...ends.slice(0, shared + 1), ...next.ends.slice(from)];
    digests = [...digests.slice(0, shared + 1), ...next.digests.slice(from)];
  }
  return { ends, digests };
}
