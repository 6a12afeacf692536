import { describe, expect, it } from "vitest";
import { IgnoreRules } from "./ignore-rules.ts";

describe("IgnoreRules", () => {
  it("never syncs .git at any depth, nor our temporary files", () => {
    const rules = new IgnoreRules();
    expect(rules.isIgnored(".git", true)).toBe(true);
    expect(rules.isIgnored(".git/refs/heads/main", false)).toBe(true);
    expect(rules.isIgnored("vendor/lib/.git", false)).toBe(true);
    expect(rules.isIgnored("src/.wsync-tmp-abc", false)).toBe(true);
    expect(rules.isIgnored(".gitignore", false)).toBe(false);
    expect(rules.isIgnored("src/git.ts", false)).toBe(false);
  });

  it("honours the root .gitignore, .syncignore and the extra patterns", () => {
    const rules = new IgnoreRules(["*.tmp"]);
    rules.setIgnoreFile(".gitignore", "node_modules/\n/dist\n");
    rules.setIgnoreFile(".syncignore", "secrets.env\n");
    expect(rules.isIgnored("node_modules", true)).toBe(true);
    expect(rules.isIgnored("pkg/node_modules/x/index.js", false)).toBe(true);
    expect(rules.isIgnored("dist/a.js", false)).toBe(true);
    expect(rules.isIgnored("src/dist/a.js", false)).toBe(false);
    expect(rules.isIgnored("config/secrets.env", false)).toBe(true);
    expect(rules.isIgnored("a.tmp", false)).toBe(true);
    expect(rules.isIgnored("src/index.ts", false)).toBe(false);
  });

  it("reads a nested .gitignore relative to its folder, and lets it re-include", () => {
    const rules = new IgnoreRules();
    rules.setIgnoreFile(".gitignore", "*.log\n");
    rules.setIgnoreFile("app/.gitignore", "build/\n!keep.log\n");
    expect(rules.isIgnored("app/build/out.js", false)).toBe(true);
    expect(rules.isIgnored("build/out.js", false)).toBe(false);
    expect(rules.isIgnored("app/debug.log", false)).toBe(true);
    expect(rules.isIgnored("app/keep.log", false)).toBe(false);
    expect(rules.isIgnored("keep.log", false)).toBe(true);
  });

  it("a .syncignore below the root is an ordinary file, and clearing a rule file lifts its rules", () => {
    const rules = new IgnoreRules();
    expect(rules.setIgnoreFile("sub/.syncignore", "*\n")).toBe(false);
    rules.setIgnoreFile(".gitignore", "*.bak\n");
    expect(rules.isIgnored("x.bak", false)).toBe(true);
    expect(rules.setIgnoreFile(".gitignore", null)).toBe(true);
    expect(rules.isIgnored("x.bak", false)).toBe(false);
  });

  it("answers again when the rules change: a file in a folder ignored since, and one re-included", () => {
    const rules = new IgnoreRules();
    expect(rules.isIgnored("out/a.js", false)).toBe(false);
    expect(rules.isIgnored("out", true)).toBe(false);
    rules.setIgnoreFile(".gitignore", "out/\n");
    expect(rules.isIgnored("out", true)).toBe(true);
    expect(rules.isIgnored("out/a.js", false)).toBe(true);
    rules.setIgnoreFile(".gitignore", "*.js\n!keep.js\n");
    expect(rules.isIgnored("out/a.js", false)).toBe(true);
    expect(rules.isIgnored("out/keep.js", false)).toBe(false);
  });
});
