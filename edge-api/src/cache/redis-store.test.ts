import { describe } from "vitest";
import { createRedisStore } from "./redis-store.ts";
import { describeCacheStoreContract } from "./store-contract.ts";

// Against the Redis the stack suite starts (REDIS_URL); skipped, and said so, where there is none.
const url = process.env.REDIS_URL;
if (url) {
  describeCacheStoreContract("Redis", async () => {
    const store = createRedisStore({ url, commandTimeoutMs: 2_000, log: () => {} });
    if (!(await store.ready(5_000))) throw new Error(`no Redis at ${url}`);
    return store;
  });
} else {
  describe.skip("CacheStore contract: Redis (REDIS_URL is not set; the stack suite sets it)", () => {});
}
