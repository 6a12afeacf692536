import { describe, expect, it } from "vitest";
import { findMoveCycles } from "./move-cycles.ts";

describe("findMoveCycles", () => {
  it("finds a swap and a rotation, each ordered so a member waits on the next", () => {
    const blockedBy = new Map([
      ["x", "y"],
      ["y", "x"],
      ["p", "q"],
      ["q", "r"],
      ["r", "p"],
    ]);
    expect(findMoveCycles(blockedBy)).toEqual([
      ["x", "y"],
      ["p", "q", "r"],
    ]);
  });

  it("leaves out chains, also one leading into a ring, and waits on items that do not move", () => {
    const blockedBy = new Map([
      ["tail", "a"],
      ["a", "b"],
      ["b", "c"],
      ["c", "b"],
      ["chain", "still"],
    ]);
    expect(findMoveCycles(blockedBy)).toEqual([["b", "c"]]);
  });
});
