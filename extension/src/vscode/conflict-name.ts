import type { ConflictNameParser } from "./conflict-model.ts";

/**
 * Reads the engine's conflicted-copy names, `name (conflicted copy - <device> - YYYY-MM-DD[ n]).ext`
 * (engine/plan/conflict-name.ts writes them; conflict-name.test.ts checks the two agree). A name the
 * engine had to shorten to fit 255 bytes gives a shortened original name, which then matches nothing:
 * the copy is still listed, with Compare against a missing file.
 */
const PATTERN = /^(.*) \(conflicted copy - (.+) - (\d{4}-\d{2}-\d{2})(?: \d+)?\)(\.[^.]+)?$/;

export const parseConflictedCopyName: ConflictNameParser = (name) => {
  const match = PATTERN.exec(name);
  if (!match) return undefined;
  const [, stem = "", deviceName, day, extension = ""] = match;
  if (stem === "") return undefined;
  return { originalName: `${stem}${extension}`, deviceName, createdAt: day };
};
