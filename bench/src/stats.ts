/**
 * Summaries of repeated measurements. The machine is shared and noisy, so every figure is a median of
 * several runs with its spread (min to max) beside it, never a single run.
 */

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  /** 99th percentile (nearest rank); with fewer than 100 samples it is the maximum or close to it. */
  p99: number;
}

/** Nearest-rank percentile of values sorted ascending; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/** Median of an even count is the mean of the two middle values. */
export function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: median(sorted),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    p99: percentile(sorted, 99),
  };
}

/** Spread as a share of the median: (max - min) / median. */
export function relativeSpread(summary: Summary): number {
  return summary.median === 0 ? 0 : (summary.max - summary.min) / summary.median;
}

/** Runs `measure` `warmups` times unrecorded, then `repeats` times, and returns what it measured. */
export async function repeat(
  repeats: number,
  measure: (index: number) => Promise<number>,
  warmups = 0,
): Promise<number[]> {
  for (let i = 0; i < warmups; i++) await measure(-1 - i);
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) samples.push(await measure(i));
  return samples;
}
