import { describe, expect, it } from "vitest";
import { formatNumber, formatReport, formatSummary, row } from "./report.ts";
import { summarize } from "./stats.ts";

describe("report", () => {
  it("puts the ratio of the medians beside a figure and its reference", () => {
    const r = row("engine", "GB/s", summarize([0.9, 1.0, 1.1]), {
      label: "sha",
      figure: summarize([2, 2, 2]),
    });
    expect(r.ratio).toBeCloseTo(0.5);
  });

  it("writes median, spread and run count", () => {
    expect(formatSummary(summarize([1, 2, 4]), "ms")).toBe("2 ms [1–4] ×3");
    expect(formatSummary(summarize([7]), "chunks")).toBe("7 chunks");
    expect(formatNumber(1234.5)).toBe("1,235");
    expect(formatNumber(2.5)).toBe("2.50");
    expect(formatNumber(0.004)).toBe("0.0040");
  });

  it("says plainly whether each goal is met, with the figure", () => {
    const r = row("engine", "GB/s", summarize([0.5]), { label: "sha", figure: summarize([1.5]) });
    r.goal = { text: "at least 0.75 of SHA-256", met: false };
    const text = formatReport([
      { id: "x", title: "1. X", setup: "s", rows: [r], problems: ["rsync missing"] },
    ]);
    expect(text).toContain("goal NOT MET: at least 0.75 of SHA-256 (engine: 0.50 GB/s, ratio 0.33)");
    expect(text).toContain("| engine | 0.50 GB/s | sha: 1.50 GB/s | 0.33× |");
    expect(text).toContain("- problem: rsync missing");
  });
});
