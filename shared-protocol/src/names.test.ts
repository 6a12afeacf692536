import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FileName, fileNameProblem } from "./names.ts";

describe("file names", () => {
  it.each([
    ["", "empty"],
    [".", "dot"],
    ["..", "dot-dot"],
    ["a/b", "slash"],
    ["a\\b", "backslash"],
    ["a\u0000b", "NUL"],
    ["a\nb", "newline"],
    ["é".repeat(128), "256 bytes of UTF-8"],
    ["日".repeat(86), "258 bytes of UTF-8 in 86 characters"],
  ])("refuses %j (%s)", (name) => {
    expect(fileNameProblem(name)).not.toBeNull();
    expect(FileName.safeParse(name).success).toBe(false);
  });

  it.each([
    "README.md",
    ".gitignore",
    "résumé (final).docx",
    "日本語",
    "a".repeat(255),
    "日".repeat(85),
    "...",
  ])("accepts %j", (name) => {
    expect(fileNameProblem(name)).toBeNull();
  });

  it("accepts exactly the names without separators, control characters or over 255 bytes", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (name) => {
        const valid =
          name !== "" &&
          name !== "." &&
          name !== ".." &&
          // biome-ignore lint/suspicious/noControlCharactersInRegex: the oracle names the control characters
          !/[/\\\u0000-\u001f\u007f-\u009f]/.test(name) &&
          new TextEncoder().encode(name).length <= 255 &&
          name.isWellFormed();
        expect(fileNameProblem(name) === null).toBe(valid);
      }),
    );
  });
});
