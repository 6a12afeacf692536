import { readFileSync, writeFileSync } from "node:fs";

/**
 * The peak resident set of this process over a stretch of work, in bytes: the kernel's own high-water
 * mark (VmHWM), reset at the start by writing 5 to /proc/self/clear_refs (Linux 4.0+). Where that is
 * refused, the highest of samples taken every 20 ms instead (a peak between samples is missed).
 */
export function watchPeakRss(): { stop(): { peakBytes: number; exact: boolean } } {
  let exact = true;
  try {
    writeFileSync("/proc/self/clear_refs", "5");
  } catch {
    exact = false;
  }
  let sampled = process.memoryUsage.rss();
  const timer = setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage.rss());
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      sampled = Math.max(sampled, process.memoryUsage.rss());
      if (!exact) return { peakBytes: sampled, exact };
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
      return hwm ? { peakBytes: Number(hwm[1]) * 1024, exact } : { peakBytes: sampled, exact: false };
    },
  };
}
