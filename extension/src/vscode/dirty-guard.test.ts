import { describe, expect, it } from "vitest";
import { DirtyGuard } from "./dirty-guard.ts";

function setup(dirty: string[]) {
  const dirtySet = new Set(dirty);
  const asked: string[] = [];
  const guard = new DirtyGuard(
    (path) => dirtySet.has(path),
    (path) => asked.push(path),
  );
  return { guard, asked, dirtySet };
}

describe("DirtyGuard", () => {
  it("lets a download replace a file without unsaved edits, without asking", () => {
    const { guard, asked } = setup([]);
    expect(guard.allows("a.md")).toBe(true);
    expect(asked).toEqual([]);
  });

  it("holds a download over unsaved edits and asks once, however often sync retries", () => {
    const { guard, asked } = setup(["a.md"]);
    expect(guard.allows("a.md")).toBe(false);
    expect(guard.allows("a.md")).toBe(false);
    expect(asked).toEqual(["a.md"]);
    expect(guard.held()).toEqual(["a.md"]);
  });

  it("lets the next attempt through once the user chose to load the new version", () => {
    const { guard, asked } = setup(["a.md"]);
    guard.allows("a.md");
    guard.answer("a.md", "load");
    expect(guard.allows("a.md")).toBe(true);
    // The answer was for that download; a later one over new unsaved edits asks again.
    expect(guard.allows("a.md")).toBe(false);
    expect(asked).toEqual(["a.md", "a.md"]);
  });

  it("keeps holding, silently, after 'keep editing', until the document is saved or closed", () => {
    const { guard, asked, dirtySet } = setup(["a.md"]);
    guard.allows("a.md");
    guard.answer("a.md", "keep");
    expect(guard.allows("a.md")).toBe(false);
    expect(asked).toEqual(["a.md"]);
    dirtySet.delete("a.md");
    guard.settled("a.md");
    expect(guard.allows("a.md")).toBe(true);
    expect(guard.held()).toEqual([]);
  });

  it("asks again next time when the question was dismissed", () => {
    const { guard, asked } = setup(["a.md"]);
    guard.allows("a.md");
    guard.answer("a.md", undefined);
    expect(guard.allows("a.md")).toBe(false);
    expect(asked).toEqual(["a.md", "a.md"]);
  });

  it("decides per file", () => {
    const { guard } = setup(["a.md", "b.md"]);
    guard.allows("a.md");
    guard.allows("b.md");
    guard.answer("a.md", "load");
    expect(guard.allows("a.md")).toBe(true);
    expect(guard.allows("b.md")).toBe(false);
    expect(guard.allows("c.md")).toBe(true);
  });
});
