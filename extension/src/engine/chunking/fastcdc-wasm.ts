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

/** Where a FastCDC run stands between blocks: bytes of the current chunk seen so far, and its gear hash. */
export interface CdcState {
  position: number;
  hash: number;
}

/** A gear-hash scan as `GearScanner.scan` does it; `hash` is the hash after the last byte scanned. */
export interface GearScan {
  hash: number;
  scan(block: Uint8Array, from: number, to: number, hash: number, mask: number): number;
}

/**
 * Appends to `cuts` the chunk ends FastCDC finds in `block`, carrying `state` from the block before.
 * It refers to no name outside itself: the chunking worker runs it from its source text
 * (hash-worker.ts), so the engine's two ways of chunking share this one function.
 */
export function cutBlock(
  state: CdcState,
  parameters: FastCdcParameters,
  scanner: GearScan,
  block: Uint8Array,
  cuts: number[],
): void {
  const { min, avg, max, maskSmall, maskLarge } = parameters;
  const n = block.length;
  let i = 0;
  let position = state.position;
  let hash = state.hash;
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
  state.position = position;
  state.hash = hash;
}

export class WasmFastCdc implements BoundaryFinder {
  private readonly parameters: FastCdcParameters;
  private readonly state: CdcState = { position: 0, hash: 0 };

  constructor(sizes: ChunkSizes) {
    this.parameters = fastCdcParameters(sizes);
  }

  push(block: Uint8Array, cuts: number[]): void {
    cutBlock(this.state, this.parameters, scannerFor(block), block, cuts);
  }

  reset(): void {
    this.state.position = 0;
    this.state.hash = 0;
  }
}
