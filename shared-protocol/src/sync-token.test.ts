import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeSyncToken, encodeSyncToken } from "./sync-token.ts";

describe("sync tokens", () => {
  it("round-trip every journal sequence a bigint column can hold", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 9_223_372_036_854_775_807n }), (sequence) => {
        expect(decodeSyncToken(encodeSyncToken(sequence))).toBe(sequence);
      }),
    );
  });

  it.each(["", "c1.", "c1.-1", "c1.ZZ", "2026-03-15T09:22:10Z", "c2.10", "c1.zzzzzzzzzzzzz"])(
    "treats %j as not ours",
    (token) => {
      expect(decodeSyncToken(token)).toBeNull();
    },
  );
});
