import { describe, expect, it } from "vitest";
import { relativeTo } from "./paths.ts";

describe("relativeTo", () => {
  it("gives paths inside the folder relative to it, and nothing for the rest", () => {
    expect(relativeTo("/work/folder", "/work/folder/a/b.md")).toBe("a/b.md");
    expect(relativeTo("/work/folder/", "/work/folder/a.md")).toBe("a.md");
    expect(relativeTo("/work/folder", "/work/folder")).toBe("");
    expect(relativeTo("/work/folder", "/work/folder-2/a.md")).toBeUndefined();
    expect(relativeTo("/work/folder", "/elsewhere/a.md")).toBeUndefined();
  });
});
