import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isExecutable, withExecutable } from "./executable.ts";

describe("the executable bit and modes", () => {
  it("adds exec bits where read bits are, and drops them all", () => {
    expect(withExecutable(0o644, true)).toBe(0o755);
    expect(withExecutable(0o600, true)).toBe(0o700);
    expect(withExecutable(0o640, true)).toBe(0o750);
    expect(withExecutable(0o755, false)).toBe(0o644);
    expect(withExecutable(0o700, false)).toBe(0o600);
  });

  it("property: the result says what was asked, and leaves read and write bits alone", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0o777 }), fc.boolean(), (mode, executable) => {
        const result = withExecutable(mode | 0o400, executable);
        expect(isExecutable(result)).toBe(executable);
        expect(result & 0o666).toBe((mode | 0o400) & 0o666);
        expect(withExecutable(result, executable)).toBe(result);
      }),
    );
  });
});
