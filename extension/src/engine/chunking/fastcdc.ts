/**
 * FastCDC (Xia et al., "The Design of Fast Content-Defined Chunking for Data Deduplication Based
 * Storage Systems", 2020) with normalized chunking level 2.
 *
 * A cut point depends only on the bytes of the current chunk, so an edit moves at most the cut points
 * around it: everything after the first cut past the edit is chunked exactly as before.
 *
 * The gear hash shifts left one bit per byte, so its high bits depend on the last 32 bytes and its low
 * bits only on the last few: the masks test high bits.
 */
import type { BoundaryFinder, ChunkSizes } from "./chunker.ts";

/** 256 pseudo-random 32-bit values from a fixed seed: every device must cut at the same places. */
export const GEAR: Uint32Array = (() => {
  const table = new Uint32Array(256);
  // splitmix32, seeded: deterministic and well mixed.
  let state = 0x9e3779b9;
  for (let i = 0; i < 256; i++) {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    table[i] = (z ^ (z >>> 16)) >>> 0;
  }
  return table;
})();

function highBitsMask(bits: number): number {
  return (((2 ** bits - 1) << (32 - bits)) | 0) >>> 0;
}

export interface FastCdcParameters {
  min: number;
  avg: number;
  max: number;
  /** Harder to match (more bits): used below the average size, so few chunks end early. */
  maskSmall: number;
  /** Easier to match (fewer bits): used above the average, so few chunks run to the maximum. */
  maskLarge: number;
}

export function fastCdcParameters(sizes: ChunkSizes): FastCdcParameters {
  const bits = Math.round(Math.log2(sizes.avg));
  if (!(sizes.min > 0 && sizes.min <= sizes.avg && sizes.avg <= sizes.max)) {
    throw new RangeError(`chunk sizes must satisfy 0 < min <= avg <= max, got ${JSON.stringify(sizes)}`);
  }
  return {
    min: sizes.min,
    avg: sizes.avg,
    max: sizes.max,
    maskSmall: highBitsMask(Math.min(31, bits + 2)),
    maskLarge: highBitsMask(Math.max(1, bits - 2)),
  };
}

/**
 * The reference implementation, in plain TypeScript: the engine cuts with `WasmFastCdc`, which must
 * give exactly these cut points (devices and servers hold chunk lists made by this code).
 */
export class FastCdc implements BoundaryFinder {
  private readonly min: number;
  private readonly avg: number;
  private readonly max: number;
  /** Harder to match (more bits): used below the average size, so few chunks end early. */
  private readonly maskSmall: number;
  /** Easier to match (fewer bits): used above the average, so few chunks run to the maximum. */
  private readonly maskLarge: number;
  /** Bytes of the current chunk seen so far. */
  private position = 0;
  private hash = 0;

  constructor(sizes: ChunkSizes) {
    const parameters = fastCdcParameters(sizes);
    this.min = parameters.min;
    this.avg = parameters.avg;
    this.max = parameters.max;
    this.maskSmall = parameters.maskSmall;
    this.maskLarge = parameters.maskLarge;
  }

  /**
   * Feeds the next bytes of the stream; appends to `cuts` the offsets (within `block`, exclusive ends)
   * where chunks end. The rest of the block belongs to a chunk that continues in the next block.
   */
  push(block: Uint8Array, cuts: number[]): void {
    const gear = GEAR;
    const n = block.length;
    const { min, avg, max, maskSmall, maskLarge } = this;
    let i = 0;
    let position = this.position;
    let hash = this.hash;
    while (i < n) {
      if (position < min) {
        // The first `min` bytes of a chunk are never a cut point: skip them unhashed.
        const skip = Math.min(min - position, n - i);
        i += skip;
        position += skip;
        if (position < min) break;
        hash = 0;
      }
      let cut = -1;
      if (position < avg) {
        const end = Math.min(n, i + (avg - position));
        const start = i;
        while (i < end) {
          hash = ((hash << 1) + (gear[block[i++] as number] as number)) | 0;
          if ((hash & maskSmall) === 0) {
            cut = i;
            break;
          }
        }
        position += i - start;
      }
      if (cut < 0 && position >= avg && position < max) {
        const end = Math.min(n, i + (max - position));
        const start = i;
        while (i < end) {
          hash = ((hash << 1) + (gear[block[i++] as number] as number)) | 0;
          if ((hash & maskLarge) === 0) {
            cut = i;
            break;
          }
        }
        position += i - start;
      }
      if (cut < 0 && position >= max) cut = i;
      if (cut >= 0) {
        cuts.push(cut);
        position = 0;
        hash = 0;
      }
    }
    this.position = position;
    this.hash = hash;
  }

  reset(): void {
    this.position = 0;
    this.hash = 0;
  }
}
