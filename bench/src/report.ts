import type { Summary } from "./stats.ts";

/**
 * One line of the results: a figure and, beside it, the reference measured in the same run on the
 * same machine, with their ratio. `higherIsBetter` tells how to read the ratio.
 */
export interface ResultRow {
  metric: string;
  unit: string;
  figure: Summary;
  reference?: { label: string; figure: Summary };
  /** figure.median / reference.median. */
  ratio?: number;
  higherIsBetter?: boolean;
  goal?: { text: string; met: boolean };
  note?: string;
}

export interface BenchResult {
  id: string;
  title: string;
  /** What was measured against what, and on which services (local stack, real stack). */
  setup: string;
  rows: ResultRow[];
  /** Things that went wrong or could not be measured; the rest of the result still stands. */
  problems?: string[];
  durationSeconds?: number;
}

export function row(
  metric: string,
  unit: string,
  figure: Summary,
  reference?: { label: string; figure: Summary },
  extra: Partial<Pick<ResultRow, "higherIsBetter" | "goal" | "note">> = {},
): ResultRow {
  const result: ResultRow = { metric, unit, figure, ...extra };
  if (reference) {
    result.reference = reference;
    if (reference.figure.median !== 0) result.ratio = figure.median / reference.figure.median;
  }
  return result;
}

/** A number with about three significant digits, no exponent. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  const abs = Math.abs(value);
  if (abs !== 0 && abs < 0.01) return value.toPrecision(2);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** "median [min–max] ×n", or just the value when there is one sample or no spread. */
export function formatSummary(summary: Summary, unit: string, withP99 = false): string {
  const head = `${formatNumber(summary.median)} ${unit}`.trim();
  const p99 = withP99 ? `, p99 ${formatNumber(summary.p99)}` : "";
  if (summary.n <= 1 || summary.min === summary.max)
    return `${head}${p99}${summary.n > 1 ? ` ×${summary.n}` : ""}`;
  return `${head}${p99} [${formatNumber(summary.min)}–${formatNumber(summary.max)}] ×${summary.n}`;
}

const cell = (text: string) => text.replaceAll("|", "\\|");

/** The results as one Markdown table per benchmark, then the goals. */
export function formatReport(results: readonly BenchResult[]): string {
  const out: string[] = [];
  for (const result of results) {
    out.push(`### ${result.title}`, "", result.setup, "");
    if (result.rows.length > 0) {
      out.push(
        "| metric | figure: median [min–max] ×runs | reference: median [min–max] | ratio |",
        "| --- | --- | --- | --- |",
      );
      for (const r of result.rows) {
        const p99 = r.unit === "ms" && r.figure.n >= 10;
        const reference = r.reference
          ? `${r.reference.label}: ${formatSummary(r.reference.figure, r.unit, p99 && r.reference.figure.n >= 10)}`
          : "";
        const ratio = r.ratio === undefined ? "" : `${formatNumber(r.ratio)}×`;
        const metric = r.note ? `${r.metric} (${r.note})` : r.metric;
        out.push(
          `| ${cell(metric)} | ${cell(formatSummary(r.figure, r.unit, p99))} | ${cell(reference)} | ${ratio} |`,
        );
      }
      out.push("");
    }
    const goals = result.rows.filter((r) => r.goal);
    for (const r of goals) {
      const goal = r.goal as { text: string; met: boolean };
      out.push(
        `- goal ${goal.met ? "MET" : "NOT MET"}: ${goal.text} (${r.metric}: ${formatNumber(r.figure.median)} ${r.unit}${r.ratio === undefined ? "" : `, ratio ${formatNumber(r.ratio)}`})`,
      );
    }
    for (const problem of result.problems ?? []) out.push(`- problem: ${problem}`);
    if (goals.length > 0 || result.problems?.length) out.push("");
  }
  return out.join("\n");
}
