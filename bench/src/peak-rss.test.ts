import { describe, expect, it } from "vitest";
import { watchPeakRss } from "./peak-rss.ts";

describe("watchPeakRss", () => {
  it("reports a peak that includes memory touched and released while it watched", async () => {
    const before = process.memoryUsage.rss();
    const watch = watchPeakRss();
    let block: Uint8Array | undefined = new Uint8Array(64 * 1024 * 1024).fill(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(block[block.length - 1]).toBe(1);
    block = undefined;
    const { peakBytes } = watch.stop();
    expect(peakBytes).toBeGreaterThan(before + 48 * 1024 * 1024);
  });
});
