import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CHECKSUM_ALGORITHMS, crc32c, startChecksum } from "./checksums.ts";

const check = Buffer.from("123456789");
const base64Of = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes.toString("base64");
};

describe("checksums", () => {
  it("match the standard check values of CRC-32, CRC-32C, SHA-1 and SHA-256", () => {
    const digest = (algorithm: (typeof CHECKSUM_ALGORITHMS)[number]) => {
      const running = startChecksum(algorithm);
      running.update(check);
      return running.digest().toString("base64");
    };
    expect(digest("crc32")).toBe(base64Of(0xcbf43926));
    expect(digest("crc32c")).toBe(base64Of(0xe3069283));
    expect(digest("sha1")).toBe(createHash("sha1").update(check).digest("base64"));
    expect(digest("sha256")).toBe(createHash("sha256").update(check).digest("base64"));
  });

  it("give the same result however the bytes are split into chunks", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(300), { maxLength: 5 }),
        fc.constantFrom(...CHECKSUM_ALGORITHMS),
        (bytes, cuts, algorithm) => {
          const whole = startChecksum(algorithm);
          whole.update(bytes);
          const pieces = startChecksum(algorithm);
          const points = [
            0,
            ...cuts.map((cut) => Math.min(cut, bytes.length)).sort((a, b) => a - b),
            bytes.length,
          ];
          for (let i = 1; i < points.length; i++) pieces.update(bytes.subarray(points[i - 1], points[i]));
          expect(pieces.digest()).toEqual(whole.digest());
        },
      ),
    );
  });

  it("continues a CRC-32C from a previous value", () => {
    expect(crc32c(check.subarray(4), crc32c(check.subarray(0, 4)))).toBe(0xe3069283);
  });
});
