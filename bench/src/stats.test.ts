import { describe, expect, it } from "vitest";
import { median, percentile, relativeSpread, repeat, summarize } from "./stats.ts";

describe("stats", () => {
  it("takes the nearest-rank percentile, so p99 of fewer than 100 samples is the maximum", () => {
    const values = Array.from({ length: 50 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(25);
    expect(percentile(values, 99)).toBe(50);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile([], 50)).toBeNaN();
  });

  it("gives the median of an even count as the mean of the middle two", () => {
    expect(median([1, 2, 3, 10])).toBe(2.5);
    expect(median([4])).toBe(4);
  });

  it("summarizes unsorted samples without reordering them", () => {
    const samples = [5, 1, 3];
    expect(summarize(samples)).toEqual({ n: 3, median: 3, min: 1, max: 5, p99: 5 });
    expect(samples).toEqual([5, 1, 3]);
    expect(relativeSpread(summarize(samples))).toBeCloseTo(4 / 3);
  });

  it("records only the runs after the warm-ups", async () => {
    const seen: number[] = [];
    const samples = await repeat(
      3,
      async (index) => {
        seen.push(index);
        return index * 10;
      },
      2,
    );
    expect(seen).toEqual([-1, -2, 0, 1, 2]);
    expect(samples).toEqual([0, 10, 20]);
  });
});
