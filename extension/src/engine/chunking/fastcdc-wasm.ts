/**
 * FastCDC as the engine runs it: the same decisions as the reference `FastCdc` (fastcdc.ts), with the
 * gear-hash loop in WebAssembly (gear-scan-wasm.ts). Cut points are identical for every input and
 * every split into blocks; a property test holds the two together.
 */
import type { BoundaryFinder, ChunkSizes } from "./chunker.ts";
import { type FastCdcParameters, fastCdcParameters, GEAR } from "./fastcdc.ts";
import { GearScanner, scanRingOf } from "./gear-scan-wasm.ts";

let shared: GearScanner | undefined;

/**
 * The scanner for a block: the ring's own when the block lies in a `ScanRing` (scanned in place),
 * else one per thread that copies, made on first use. Every finder's scan is synchronous, so finders
 * share them.
 */
function scannerFor(block: Uint8Array): GearScanner {
  const ring = scanRingOf(block.buffer);
  if (ring) return ring.scannerFor(GEAR);
  shared ??= new GearScanner(GEAR);
  return shared;
}

export class WasmFastCdc implements BoundaryFinder {
  private readonly parameters: FastCdcParameters;
  /** Bytes of the current chunk seen so far. */
  private position = 0;
  private hash = 0;

  constructor(sizes: ChunkSizes) {
    this.parameters = fastCdcParameters(sizes);
  }

  push(block: Uint8Array, cuts: number[]): void {
    const { min, avg, max, maskSmall, maskLarge } = this.parameters;
    const scanner = scannerFor(block);
    const n = block.length;
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
        cut = scanner.scan(block, i, end, hash, maskSmall);
        hash = scanner.hash;
        const stop = cut >= 0 ? cut : end;
        position += stop - i;
        i = stop;
      }
      if (cut < 0 && position >= avg && position < max) {
        const end = Math.min(n, i + (max - position));
        cut = scanner.scan(block, i, end, hash, maskLarge);
        hash = scanner.hash;
        const stop = cut >= 0 ? cut : end;
        position += stop - i;
        i = stop;
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
