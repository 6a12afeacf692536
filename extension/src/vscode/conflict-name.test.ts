import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { conflictedCopyName, isConflictedCopyName } from "../engine/index.ts";
import { parseConflictedCopyName } from "./conflict-name.ts";

const never = () => false;
const date = new Date("2026-03-15T09:22:10Z");

describe("parseConflictedCopyName reads what the engine writes", () => {
  it("finds the original name, the device and the day", () => {
    const copy = conflictedCopyName("report.docx", "Device B", date, never);
    expect(parseConflictedCopyName(copy)).toEqual({
      originalName: "report.docx",
      deviceName: "Device B",
      createdAt: "2026-03-15",
    });
  });

  it("handles names without an extension, dotfiles and numbered copies", () => {
    expect(parseConflictedCopyName(conflictedCopyName("Makefile", "desk", date, never))?.originalName).toBe(
      "Makefile",
    );
    expect(parseConflictedCopyName(conflictedCopyName(".bashrc", "desk", date, never))?.originalName).toBe(
      ".bashrc",
    );
    const first = conflictedCopyName("a.md", "desk", date, never);
    const second = conflictedCopyName("a.md", "desk", date, (name) => name === first);
    expect(second).not.toBe(first);
    expect(parseConflictedCopyName(second)?.originalName).toBe("a.md");
  });

  it("round-trips any ordinary name and device", () => {
    const name = fc
      .stringMatching(/^[A-Za-z0-9 _-]{1,40}(\.[a-z0-9]{1,5})?$/)
      .filter((value) => value.trim() === value && !value.startsWith("."));
    const device = fc
      .stringMatching(/^[A-Za-z0-9][A-Za-z0-9 _.-]{0,20}$/)
      .filter((value) => value.trim() === value);
    fc.assert(
      fc.property(name, device, (original, deviceName) => {
        const copy = conflictedCopyName(original, deviceName, date, never);
        expect(isConflictedCopyName(copy)).toBe(true);
        expect(parseConflictedCopyName(copy)?.originalName).toBe(original);
      }),
    );
  });

  it("ignores ordinary names", () => {
    for (const name of [
      "a.md",
      "notes (copy).md",
      "conflicted copy.txt",
      "x (conflicted copy - - 2026-03-15).md",
    ]) {
      expect(parseConflictedCopyName(name)).toBeUndefined();
    }
  });
});
