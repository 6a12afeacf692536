import { createCipheriv, createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { BoundaryFinder, ChunkSizes } from "./chunker.ts";
import { FastCdc, GEAR } from "./fastcdc.ts";
import { WasmFastCdc } from "./fastcdc-wasm.ts";
import { createScanRing, WINDOW_BYTES } from "./gear-scan-wasm.ts";

interface Chunk {
  offset: number;
  size: number;
  sha256: string;
}

/** The chunks (offsets, sizes, SHA-256) a finder makes of `data` fed in blocks of the given sizes. */
function chunksOf(finder: BoundaryFinder, data: Uint8Array, blockSizes: readonly number[]): Chunk[] {
  const ends: number[] = [];
  let offset = 0;
  let next = 0;
  while (offset < data.length) {
    const size = Math.min(blockSizes[next++ % blockSizes.length] as number, data.length - offset);
    const cuts: number[] = [];
    finder.push(data.subarray(offset, offset + size), cuts);
    for (const cut of cuts) ends.push(offset + cut);
    offset += size;
  }
  if (data.length > (ends.at(-1) ?? 0)) ends.push(data.length);
  let start = 0;
  return ends.map((end) => {
    const chunk = { offset: start, size: end - start, sha256: sha256(data.subarray(start, end)) };
    start = end;
    return chunk;
  });
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Chunk sizes 0 < min <= avg <= max, small enough that a few KiB of data hold many chunks. */
const sizesArbitrary: fc.Arbitrary<ChunkSizes> = fc
  .tuple(
    fc.integer({ min: 1, max: 4096 }),
    fc.integer({ min: 0, max: 4096 }),
    fc.integer({ min: 0, max: 8192 }),
  )
  .map(([min, extraAvg, extraMax]) => ({ min, avg: min + extraAvg, max: min + extraAvg + extraMax }));

describe("WasmFastCdc (the engine's FastCDC)", () => {
  it("gives the reference FastCdc's chunks for random data, chunk sizes and block splits", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 60_000 }),
        sizesArbitrary,
        fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 12 }),
        (data, sizes, splitA, splitB) => {
          const reference = chunksOf(new FastCdc(sizes), data, [data.length || 1]);
          expect(chunksOf(new WasmFastCdc(sizes), data, splitA)).toEqual(reference);
          expect(chunksOf(new WasmFastCdc(sizes), data, splitB)).toEqual(reference);
          expect(chunksOf(new FastCdc(sizes), data, splitA)).toEqual(reference);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("gives the reference chunks when blocks lie in a scan ring (scanned in place), mixed with blocks outside it", () => {
    const ring = createScanRing(20_000);
    fc.assert(
      fc.property(
        // size "max": lengths up to the maximum, not fast-check's small default (no cuts at all).
        fc.uint8Array({ minLength: 0, maxLength: 30_000, size: "max" }),
        sizesArbitrary,
        fc.array(fc.tuple(fc.integer({ min: 1, max: 9000 }), fc.boolean(), fc.nat()), {
          minLength: 1,
          maxLength: 12,
        }),
        (data, sizes, split) => {
          // Each block is copied to a random place in the ring, or pushed from where it is.
          const finder = new WasmFastCdc(sizes);
          const ends: number[] = [];
          let offset = 0;
          for (let next = 0; offset < data.length; next++) {
            const [wanted, inRing, at] = split[next % split.length] as [number, boolean, number];
            const size = Math.min(wanted, data.length - offset);
            let block: Uint8Array = data.subarray(offset, offset + size);
            if (inRing) {
              const start = at % (ring.length - size + 1);
              ring.bytes.set(block, start);
              block = ring.bytes.subarray(start, start + size);
            }
            const cuts: number[] = [];
            finder.push(block, cuts);
            for (const cut of cuts) ends.push(offset + cut);
            offset += size;
          }
          const reference: number[] = [];
          new FastCdc(sizes).push(data, reference);
          expect(ends).toEqual(reference);
          if (data.length >= 2 * sizes.max) expect(ends.length).toBeGreaterThan(0);
        },
      ),
      // Shrinking inputs this long takes minutes: the first counterexample says enough.
      { numRuns: 150, endOnFailure: true },
    );
  });

  it("a ring's scanner scans only blocks in that ring: it has no window to copy others into", () => {
    const ring = createScanRing(4096);
    const scanner = ring.scannerFor(GEAR);
    expect(scanner.scan(ring.bytes.subarray(100, 200), 0, 100, 0, 0xffffffff)).toBe(-1);
    expect(() => scanner.scan(new Uint8Array(100), 0, 100, 0, 0xffffffff)).toThrow(RangeError);
  });

  it("gives the reference chunks with low-entropy data, where masks match often or never", () => {
    // Runs of one byte value and short repeating patterns push the hash into states random bytes
    // rarely reach (constant hashes, long stretches without a cut, cuts at every chance).
    const pattern = fc
      .tuple(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 40_000 }))
      .map(([unit, length]) => Uint8Array.from({ length }, (_, i) => unit[i % unit.length] as number));
    fc.assert(
      fc.property(pattern, sizesArbitrary, fc.integer({ min: 1, max: 5000 }), (data, sizes, block) => {
        expect(chunksOf(new WasmFastCdc(sizes), data, [block])).toEqual(
          chunksOf(new FastCdc(sizes), data, [data.length || 1]),
        );
      }),
      { numRuns: 200 },
    );
  });

  it("gives the reference chunks at the engine's sizes across several WebAssembly windows", () => {
    // Scans longer than one window (1 MiB) are copied in and hashed window by window: the hash must
    // carry over between windows, and a cut found in a later window must land at the right offset.
    const sizes = { min: 1 << 20, avg: 4 << 20, max: 16 << 20 };
    // Seeded incompressible bytes (the AES-CTR keystream): the same on every run.
    const key = Buffer.alloc(16, 7);
    const data = new Uint8Array(createCipheriv("aes-128-ctr", key, key).update(Buffer.alloc(48 << 20)));
    const reference = chunksOf(new FastCdc(sizes), data, [data.length]);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3 * WINDOW_BYTES }), { minLength: 1, maxLength: 4 }),
        (split) => {
          expect(chunksOf(new WasmFastCdc(sizes), data, split)).toEqual(reference);
        },
      ),
      { numRuns: 5 },
    );
    expect(reference.length).toBeGreaterThan(6);
  });

  it("keeps two interleaved streams apart although they share one WebAssembly instance", () => {
    const sizes = { min: 64, avg: 256, max: 1024 };
    const a = Uint8Array.from({ length: 50_000 }, (_, i) => (i * 2_654_435_761) >>> 24);
    const b = Uint8Array.from({ length: 50_000 }, (_, i) => (i * 40_503 + 17) >>> 7);
    const finderA = new WasmFastCdc(sizes);
    const finderB = new WasmFastCdc(sizes);
    const cutsA: number[] = [];
    const cutsB: number[] = [];
    for (let offset = 0; offset < a.length; offset += 1000) {
      const blockCuts: number[] = [];
      finderA.push(a.subarray(offset, offset + 1000), blockCuts);
      cutsA.push(...blockCuts.map((cut) => offset + cut));
      blockCuts.length = 0;
      finderB.push(b.subarray(offset, offset + 1000), blockCuts);
      cutsB.push(...blockCuts.map((cut) => offset + cut));
    }
    const whole = (data: Uint8Array) => {
      const cuts: number[] = [];
      new FastCdc(sizes).push(data, cuts);
      return cuts;
    };
    expect(cutsA).toEqual(whole(a));
    expect(cutsB).toEqual(whole(b));
    expect(cutsA.length).toBeGreaterThan(10);
  });

  it("refuses chunk sizes out of order, like the reference", () => {
    expect(() => new WasmFastCdc({ min: 10, avg: 5, max: 20 })).toThrow(RangeError);
    expect(() => new WasmFastCdc({ min: 0, avg: 5, max: 20 })).toThrow(RangeError);
  });
});
