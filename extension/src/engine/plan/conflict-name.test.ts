import { fileNameProblem } from "@wsync/shared-protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { conflictedCopyName, isConflictedCopyName } from "./conflict-name.ts";

const day = new Date("2026-03-15T09:22:10Z");
const none = () => false;

describe("conflictedCopyName", () => {
  it("puts device and date before the extension", () => {
    expect(conflictedCopyName("report.docx", "Laptop", day, none)).toBe(
      "report (conflicted copy - Laptop - 2026-03-15).docx",
    );
    expect(conflictedCopyName("Makefile", "pc", day, none)).toBe(
      "Makefile (conflicted copy - pc - 2026-03-15)",
    );
    expect(conflictedCopyName(".bashrc", "pc", day, none)).toBe(
      ".bashrc (conflicted copy - pc - 2026-03-15)",
    );
    expect(conflictedCopyName("a.tar.gz", "pc", day, none)).toBe(
      "a.tar (conflicted copy - pc - 2026-03-15).gz",
    );
  });

  it("numbers a second copy of the same day", () => {
    const first = "a (conflicted copy - pc - 2026-03-15).txt";
    expect(conflictedCopyName("a.txt", "pc", day, (n) => n === first)).toBe(
      "a (conflicted copy - pc - 2026-03-15 2).txt",
    );
  });

  it("always gives a valid name, recognised as a conflicted copy, whatever the name and device", () => {
    fc.assert(
      fc.property(
        fc
          .string({ minLength: 1, maxLength: 300, unit: "grapheme" })
          .filter((s) => fileNameProblem(s) === null),
        fc.string({ maxLength: 80 }),
        (name, device) => {
          const copy = conflictedCopyName(name, device, day, none);
          expect(fileNameProblem(copy)).toBeNull();
          expect(isConflictedCopyName(copy)).toBe(true);
        },
      ),
    );
  });
});
