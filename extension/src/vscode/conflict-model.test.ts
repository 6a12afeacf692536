import { describe, expect, it } from "vitest";
import {
  type ConflictNameParser,
  conflictDiffTitle,
  conflictItem,
  conflictNotice,
  findConflicts,
  newConflicts,
  resolutionSteps,
} from "./conflict-model.ts";

// A stand-in for the engine's naming, in the shape "name (conflicted copy DEVICE DATE).ext".
const parse: ConflictNameParser = (name) => {
  const match = /^(.*) \(conflicted copy (.+) (\d{4}-\d{2}-\d{2})\)(\.[^.]*)?$/.exec(name);
  if (!match) return undefined;
  return { originalName: `${match[1]}${match[4] ?? ""}`, deviceName: match[2], createdAt: match[3] };
};

const now = new Date("2026-03-17T12:00:00Z");

describe("findConflicts", () => {
  it("pairs each conflicted copy with its original in the same folder", () => {
    const conflicts = findConflicts(
      [
        "notes.md",
        "src/a.ts",
        "src/a (conflicted copy desk 2026-03-15).ts",
        "notes (conflicted copy laptop 2026-03-16).md",
      ],
      parse,
    );
    expect(conflicts).toEqual([
      {
        copyPath: "notes (conflicted copy laptop 2026-03-16).md",
        originalPath: "notes.md",
        deviceName: "laptop",
        createdAt: "2026-03-16",
      },
      {
        copyPath: "src/a (conflicted copy desk 2026-03-15).ts",
        originalPath: "src/a.ts",
        deviceName: "desk",
        createdAt: "2026-03-15",
      },
    ]);
  });

  it("finds nothing among ordinary files", () => {
    expect(findConflicts(["a.md", "conflicted.md", "copy (1).txt"], parse)).toEqual([]);
  });
});

describe("newConflicts", () => {
  it("notifies each copy once, when it first appears", () => {
    const one = findConflicts(["a (conflicted copy x 2026-03-15).md"], parse);
    const two = findConflicts(
      ["a (conflicted copy x 2026-03-15).md", "b (conflicted copy y 2026-03-15).md"],
      parse,
    );
    expect(newConflicts([], one).map((c) => c.copyPath)).toEqual(["a (conflicted copy x 2026-03-15).md"]);
    expect(newConflicts(one, two).map((c) => c.copyPath)).toEqual(["b (conflicted copy y 2026-03-15).md"]);
    expect(newConflicts(two, one)).toEqual([]);
  });
});

describe("conflict items and words", () => {
  const [conflict] = findConflicts(["docs/plan (conflicted copy desk 2026-03-15).md"], parse);
  if (!conflict) throw new Error("fixture");

  it("list the original's name, folder, device and age, and compare on click", () => {
    const item = conflictItem(conflict, now);
    expect(item).toMatchObject({
      label: "plan.md",
      description: "docs · from desk · 2026-03-15",
      contextValue: "wsync.conflict",
      command: { command: "wsync.conflicts.compare" },
      resourcePath: "docs/plan.md",
    });
  });

  it("say today or yesterday for a copy's day, not a made-up hour", () => {
    const today = { copyPath: "x", originalPath: "a.md", deviceName: "desk", createdAt: "2026-03-17" };
    expect(conflictItem(today, now).description).toBe("from desk · today");
    expect(conflictItem({ ...today, createdAt: "2026-03-16" }, now).description).toBe(
      "from desk · yesterday",
    );
    expect(conflictItem({ ...today, createdAt: "2026-03-17T11:00:00Z" }, now).description).toBe(
      "from desk · 1 hour ago",
    );
  });

  it("tell what happened and title the diff with both sides", () => {
    expect(conflictNotice(conflict)).toBe(
      'docs/plan.md was changed on two devices at once. The edit from desk is kept as "plan (conflicted copy desk 2026-03-15).md".',
    );
    expect(conflictDiffTitle(conflict)).toBe("plan.md: theirs (original) ↔ mine (conflicted copy)");
  });
});

describe("resolutionSteps", () => {
  const conflict = { copyPath: "a (conflicted copy x 2026-03-15).md", originalPath: "a.md" };
  it("keep mine puts the copy's bytes in the original, then removes the copy", () => {
    expect(resolutionSteps("keepMine", conflict)).toEqual([
      { op: "copy", from: conflict.copyPath, to: "a.md" },
      { op: "delete", path: conflict.copyPath },
    ]);
  });
  it("keep theirs only removes the copy", () => {
    expect(resolutionSteps("keepTheirs", conflict)).toEqual([{ op: "delete", path: conflict.copyPath }]);
  });
  it("I merged it saves the original first, so an unsaved merge is not lost", () => {
    expect(resolutionSteps("merged", conflict)).toEqual([
      { op: "save", path: "a.md" },
      { op: "delete", path: conflict.copyPath },
    ]);
  });
});
