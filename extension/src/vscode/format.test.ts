import { describe, expect, it } from "vitest";
import { formatAge, formatBytes, plural } from "./format.ts";

describe("formatBytes", () => {
  it("uses binary units with one decimal below 100", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(5 * 1024 ** 3)).toBe("5.0 GB");
    expect(formatBytes(150 * 1024 ** 2)).toBe("150 MB");
    expect(formatBytes(-1)).toBe("?");
  });
});

describe("formatAge", () => {
  const now = new Date("2026-03-15T12:00:00Z");
  const ago = (seconds: number) => formatAge(new Date(now.getTime() - seconds * 1000), now);
  it("says how long ago, in the largest whole unit", () => {
    expect(ago(3)).toBe("just now");
    expect(ago(45)).toBe("45 seconds ago");
    expect(ago(5 * 60)).toBe("5 minutes ago");
    expect(ago(3 * 3600)).toBe("3 hours ago");
    expect(ago(26 * 3600)).toBe("yesterday");
    expect(ago(3 * 86400)).toBe("3 days ago");
    expect(ago(400 * 86400)).toBe("last year");
  });
});

describe("plural", () => {
  it("agrees with the count", () => {
    expect(plural(1, "file")).toBe("1 file");
    expect(plural(0, "file")).toBe("0 files");
    expect(plural(2, "copy", "copies")).toBe("2 copies");
  });
});
