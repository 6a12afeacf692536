import { readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { checkScreenshot } from "./png.ts";

function crcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}
const table = crcTable();
function crc(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (table[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, "latin1");
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, tail]);
}
/** An RGB PNG whose pixel (x, y) is `colour(x, y)`, each row with the given filter type. */
function encode(
  width: number,
  height: number,
  colour: (x: number, y: number) => number[],
  filter = 0,
): Buffer {
  const rows: number[] = [];
  let previous: number[] = new Array(width * 3).fill(0);
  for (let y = 0; y < height; y++) {
    const row = Array.from({ length: width }, (_, x) => colour(x, y)).flat();
    rows.push(filter);
    for (let i = 0; i < row.length; i++) {
      const left = i >= 3 ? (row[i - 3] ?? 0) : 0;
      const predicted = filter === 1 ? left : filter === 2 ? (previous[i] ?? 0) : 0;
      rows.push(((row[i] ?? 0) - predicted) & 0xff);
    }
    previous = row;
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.from(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

describe("checkScreenshot", () => {
  it("sees a blank image as one colour", () => {
    expect(checkScreenshot(encode(4, 3, () => [255, 255, 255]))).toEqual({
      width: 4,
      height: 3,
      distinctColors: 1,
      dominantShare: 1,
    });
  });

  it("counts colours through every row filter", () => {
    for (const filter of [0, 1, 2]) {
      const check = checkScreenshot(encode(8, 8, (x, y) => [x * 10, y * 10, 0], filter));
      expect(check.distinctColors).toBe(64);
      expect(check.dominantShare).toBeCloseTo(1 / 64);
    }
  });

  it("reads a real Chromium rendering (the extension's icon)", () => {
    const check = checkScreenshot(readFileSync(new URL("../../media/icon.png", import.meta.url)));
    expect(check).toMatchObject({ width: 128, height: 128 });
    expect(check.distinctColors).toBeGreaterThan(2);
  });

  it("refuses what is not a PNG", () => {
    expect(() => checkScreenshot(Buffer.from("GIF89a"))).toThrow("not a PNG");
  });
});
