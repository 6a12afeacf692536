import { LRUCache } from "lru-cache";
import type { CacheStore } from "./cache-store.ts";

type Entry = Set<string> | Map<string, string>;

/**
 * The cache in this process (`npm start`, tests, the Deno entry point): least recently used keys go
 * first past `maxKeys`, and each key expires after its time to live. One instance only: a second
 * instance on the same database would not see this one's invalidations (the scaled stack uses Redis).
 */
export function createMemoryStore(options: { maxKeys?: number } = {}): CacheStore & { keys(): string[] } {
  const entries = new LRUCache<string, Entry>({ max: options.maxKeys ?? 50_000, ttlAutopurge: false });
  const setOf = (key: string) => {
    const entry = entries.get(key);
    return entry instanceof Set ? entry : undefined;
  };
  const hashOf = (key: string) => {
    const entry = entries.get(key);
    return entry instanceof Map ? entry : undefined;
  };
  return {
    kind: "memory",
    async areMembers(key, members) {
      const set = setOf(key);
      return members.map((member) => set?.has(member) ?? false);
    },
    async addMembers(key, members, ttlSeconds) {
      const set = setOf(key) ?? new Set<string>();
      for (const member of members) set.add(member);
      entries.set(key, set, { ttl: ttlSeconds * 1000 });
    },
    async removeMembers(key, members) {
      const set = setOf(key);
      for (const member of members) set?.delete(member);
    },
    async getField(key, field) {
      return hashOf(key)?.get(field) ?? null;
    },
    async setField(key, field, value, ttlSeconds) {
      const hash = hashOf(key) ?? new Map<string, string>();
      hash.set(field, value);
      entries.set(key, hash, { ttl: ttlSeconds * 1000 });
    },
    async delete(keys) {
      for (const key of keys) entries.delete(key);
    },
    async close() {
      entries.clear();
    },
    keys: () => [...entries.keys()],
  };
}
