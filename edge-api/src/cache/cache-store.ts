/**
 * The one interface of the cache's storage, with two implementations: `memory-store.ts` (in this
 * process, for `npm start` and tests) and `redis-store.ts` (Redis, shared by every instance of the
 * scaled stack). Operations may fail or hang (Redis down or slow); `metadata-cache.ts` bounds and
 * absorbs that, so nothing above it ever sees a cache error.
 *
 * Two shapes are enough: a set per key (chunk ownership) and a hash of fields per key (file metadata).
 * Every key carries a time to live, refreshed on write.
 */
export interface CacheStore {
  readonly kind: "memory" | "redis";
  /** For each of `members`, whether it is in the set at `key`. */
  areMembers(key: string, members: readonly string[]): Promise<boolean[]>;
  addMembers(key: string, members: readonly string[], ttlSeconds: number): Promise<void>;
  removeMembers(key: string, members: readonly string[]): Promise<void>;
  getField(key: string, field: string): Promise<string | null>;
  setField(key: string, field: string, value: string, ttlSeconds: number): Promise<void>;
  delete(keys: readonly string[]): Promise<void>;
  close(): Promise<void>;
}
