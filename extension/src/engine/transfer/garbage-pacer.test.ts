import { describe, expect, it } from "vitest";
import { enableGarbagePacing, noteTransferred, PACE_BYTES, pacerCost, settleAfter } from "./garbage-pacer.ts";

// One file, in this order: pacing is process-wide state, off until the process's owner turns it on.
describe("garbage pacing", () => {
  it("collects nothing until the process's owner turns it on (the extension host never does)", () => {
    const before = pacerCost().collections;
    noteTransferred(3 * PACE_BYTES);
    settleAfter(64 * 1024 * 1024);
    expect(pacerCost().collections).toBe(before);
  });

  it("once on, collects the young generation every PACE_BYTES moved and fully after a big download", () => {
    enableGarbagePacing();
    const before = pacerCost().collections;
    noteTransferred(PACE_BYTES - 1);
    expect(pacerCost().collections).toBe(before);
    noteTransferred(1);
    expect(pacerCost().collections).toBe(before + 1);
    settleAfter(1024);
    expect(pacerCost().collections).toBe(before + 1);
    settleAfter(64 * 1024 * 1024);
    expect(pacerCost().collections).toBe(before + 2);
  });
});
