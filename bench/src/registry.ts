import type { BenchConfig } from "./config.ts";
import type { BenchResult } from "./report.ts";

export interface BenchModule {
  run(config: BenchConfig): Promise<BenchResult>;
}

/** The suite, in the order it runs (cheap and self-contained first). */
/**
 * `extra`: not one of issue 7's seven, so not in a default run (which must stay within 20 minutes);
 * it runs when BENCH_ONLY names it, or with BENCH_EXTRAS=1.
 */
export const benches: { id: string; title: string; extra?: true; load(): Promise<BenchModule> }[] = [
  { id: "chunk-hash", title: "1. Chunk and hash", load: () => import("./benches/chunk-hash.ts") },
  { id: "edits", title: "2. Bytes on the wire for edits", load: () => import("./benches/edits.ts") },
  { id: "workspace", title: "6. A 100,000-file workspace", load: () => import("./benches/workspace.ts") },
  {
    id: "small-files",
    title: "6b. First sync of many small files",
    extra: true,
    load: () => import("./benches/small-files.ts"),
  },
  {
    id: "metadata-api",
    title: "4. Metadata API on real PostgreSQL",
    load: () => import("./benches/metadata-api.ts"),
  },
  { id: "sync-latency", title: "3. Sync latency", load: () => import("./benches/sync-latency.ts") },
  { id: "first-sync", title: "5. First sync of a big file", load: () => import("./benches/first-sync.ts") },
  { id: "notifier", title: "7. Notifier", load: () => import("./benches/notifier.ts") },
  {
    id: "scaled-api",
    title: "Scaled metadata API (issue 10)",
    extra: true,
    load: () => import("./benches/scaled-api.ts"),
  },
];
