import type { BoundaryFinder } from "./chunker.ts";

/** Cuts every `size` bytes: an insertion shifts every later chunk, which is why CDC is the default. */
export class FixedSize implements BoundaryFinder {
  private position = 0;

  constructor(private readonly size: number) {
    if (!(size > 0)) throw new RangeError("a fixed chunk size must be positive");
  }

  push(block: Uint8Array, cuts: number[]): void {
    let offset = 0;
    while (block.length - offset >= this.size - this.position) {
      offset += this.size - this.position;
      cuts.push(offset);
      this.position = 0;
    }
    this.position += block.length - offset;
  }

  reset(): void {
    this.position = 0;
  }
}
