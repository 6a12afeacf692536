import { WasmFastCdc } from "./fastcdc-wasm.ts";
import { FixedSize } from "./fixed.ts";

export interface ChunkSizes {
  min: number;
  avg: number;
  max: number;
}

const MiB = 1024 * 1024;

/** The sizes: average 4 MiB, minimum 1 MiB, maximum 16 MiB (the contract's chunk maximum). */
export const DEFAULT_CHUNK_SIZES: ChunkSizes = { min: 1 * MiB, avg: 4 * MiB, max: 16 * MiB };

export type ChunkingMode = "cdc" | "fixed";

export interface ChunkingOptions {
  mode: ChunkingMode;
  sizes: ChunkSizes;
}

export const DEFAULT_CHUNKING: ChunkingOptions = { mode: "cdc", sizes: DEFAULT_CHUNK_SIZES };

/** Finds where chunks end in a byte stream fed block by block. */
export interface BoundaryFinder {
  /** Appends to `cuts` the chunk ends (exclusive offsets within `block`) found in this block. */
  push(block: Uint8Array, cuts: number[]): void;
  reset(): void;
}

export function createBoundaryFinder(options: ChunkingOptions): BoundaryFinder {
  // Fixed-size chunking cuts every `avg` bytes: kept for the benchmark's comparison. Content-defined
  // chunking runs its gear loop in WebAssembly; fastcdc.ts's FastCdc is the reference it must match.
  return options.mode === "fixed" ? new FixedSize(options.sizes.avg) : new WasmFastCdc(options.sizes);
}

/** Chunk end offsets (exclusive) of a whole buffer: the last chunk ends at the end of the data. */
export function cutPoints(data: Uint8Array, options: ChunkingOptions = DEFAULT_CHUNKING): number[] {
  const finder = createBoundaryFinder(options);
  const cuts: number[] = [];
  finder.push(data, cuts);
  if (data.length > 0 && cuts[cuts.length - 1] !== data.length) cuts.push(data.length);
  return cuts;
}
