import type { EdgeConfig } from "../config.ts";
import type { LogSink } from "../http/context.ts";
import type { CacheStore } from "./cache-store.ts";
import { createMemoryStore } from "./memory-store.ts";
import { createMetadataCache, type MetadataCache, noCache } from "./metadata-cache.ts";

/** Which cache an instance uses: in-process (one instance), a shared store (Redis), or none. */
export type CacheChoice = { kind: "memory" } | { kind: "off" } | { kind: "store"; store: CacheStore };

export function buildCache(choice: CacheChoice, config: EdgeConfig["cache"], log: LogSink): MetadataCache {
  if (choice.kind === "off") return noCache;
  const store = choice.kind === "store" ? choice.store : createMemoryStore();
  return createMetadataCache(store, { log, ...config });
}
