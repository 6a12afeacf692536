import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ChunkSizes } from "./chunker.ts";
import { FastCdc } from "./fastcdc.ts";
import { type FileChunks, joinParts, type Part, planParts } from "./parts.ts";

/** What a worker does for one part, with the reference FastCDC: chunk from `start` to the first cut at or past `stopAfter`. */
function chunkPart(data: Uint8Array, sizes: ChunkSizes, { start, stopAfter }: Part): FileChunks {
  const cuts: number[] = [];
  new FastCdc(sizes).push(data.subarray(start), cuts);
  const ends = cuts.map((cut) => start + cut);
  if ((ends.at(-1) ?? start) < data.length) ends.push(data.length);
  const stop = ends.findIndex((end) => end >= stopAfter);
  const kept = ends.slice(0, stop + 1);
  let from = start;
  const digests = kept.map((end) => {
    const digest = createHash("sha256").update(data.subarray(from, end)).digest();
    from = end;
    return new Uint8Array(digest);
  });
  return { ends: kept, digests };
}

/** Parts chunked independently, joined, and chunked again from the last true cut when they never met. */
function inParts(data: Uint8Array, sizes: ChunkSizes, count: number, overlap: number): FileChunks {
  const parts = planParts(data.length, count, overlap);
  const joined = joinParts(
    data.length,
    parts,
    parts.map((part) => chunkPart(data, sizes, part)),
  );
  const last = joined.ends.at(-1) as number;
  if (last === data.length) return joined;
  const rest = chunkPart(data, sizes, { start: last, stopAfter: data.length });
  return { ends: [...joined.ends, ...rest.ends], digests: [...joined.digests, ...rest.digests] };
}

const sizes: ChunkSizes = { min: 256, avg: 1024, max: 4096 };

/** Random bytes with runs of one repeated byte: a run's gear hash repeats, so parts may cut it out of step. */
const dataArbitrary = fc
  .array(
    fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 6000 }),
      fc
        .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 20_000 }))
        .map(([byte, length]) => new Uint8Array(length).fill(byte)),
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((pieces) => Uint8Array.from(pieces.flatMap((piece) => [...piece])));

describe("chunking in parts", () => {
  it("plans parts that start at 0, cover the file, overlap their neighbours and end at its end", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e9 }),
        fc.integer({ min: 2, max: 8 }),
        fc.integer({ min: 0, max: 1e6 }),
        (size, count, overlap) => {
          const parts = planParts(size, count, overlap);
          expect(parts).toHaveLength(count);
          expect(parts[0]?.start).toBe(0);
          expect(parts.at(-1)?.stopAfter).toBe(size);
          for (const [index, part] of parts.entries()) {
            const next = parts[index + 1];
            expect(part.start).toBeLessThanOrEqual(size);
            if (next) expect(part.stopAfter).toBe(Math.min(size, next.start + overlap));
          }
        },
      ),
    );
  });

  it("gives exactly the chunks and digests of one sequential run, whatever the parts and the data", () => {
    fc.assert(
      fc.property(
        dataArbitrary,
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 0, max: 3 * 4096 }),
        (data, count, overlap) => {
          const sequential = chunkPart(data, sizes, { start: 0, stopAfter: data.length });
          expect(inParts(data, sizes, count, overlap)).toEqual(sequential);
        },
      ),
      { numRuns: Number(process.env.WSYNC_RANDOM_RUNS ?? 300) },
    );
  });

  it("chunks again from the last true cut when a part never meets the one after it", () => {
    // One byte repeated: every part cuts every `max` bytes from its own start, out of step with the others.
    const data = new Uint8Array(40_000).fill(7);
    const parts = planParts(data.length, 2, 0);
    const joined = joinParts(
      data.length,
      parts,
      parts.map((part) => chunkPart(data, sizes, part)),
    );
    expect(joined.ends.at(-1)).toBeLessThan(data.length);
    expect(inParts(data, sizes, 2, 0)).toEqual(chunkPart(data, sizes, { start: 0, stopAfter: data.length }));
  });
});
