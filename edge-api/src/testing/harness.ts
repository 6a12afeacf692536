import { ApiClient } from "@wsync/shared-protocol";
import { createTestBucket, createTestDatabase } from "@wsync/test-fixtures";
import postgres, { type Sql } from "postgres";
import type { CacheStore } from "../cache/cache-store.ts";
import { createMemoryStore } from "../cache/memory-store.ts";
import { createMetadataCache, noCache } from "../cache/metadata-cache.ts";
import { type EdgeConfigOverrides, resolveConfig } from "../config.ts";
import { migrate } from "../db/migrate.ts";
import { createApp } from "../http/app.ts";
import type { AppDeps } from "../http/context.ts";
import type { ChunkStorage } from "../storage/chunk-storage.ts";
import { createS3Storage } from "../storage/s3-storage.ts";

export interface Harness {
  databaseUrl: string;
  sql: Sql;
  deps: AppDeps;
  app: ReturnType<typeof createApp>;
  /** Every structured log line the app wrote. */
  logs: Record<string, unknown>[];
  /** A client with no token that talks to the app in-process (no socket). */
  client: ApiClient;
  /** Signs up a new account and returns a client holding its token. */
  signUp(email?: string): Promise<{ client: ApiClient; userId: string; deviceId: string; token: string }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** The store; `"s3"`: a bucket of its own on the run's real S3 store (createTestBucket). */
  storage: ChunkStorage | "s3";
  config?: EdgeConfigOverrides;
  clock?: () => Date;
  /** The cache's store: an in-process one of its own by default; "off" for none. */
  cacheStore?: CacheStore | "off";
}

let accounts = 0;

/** The app on a fresh migrated database of its own, with real dependencies given by the caller. */
export async function createHarness(options: HarnessOptions): Promise<Harness> {
  const bucket = options.storage === "s3" ? await createTestBucket() : null;
  let storage: ChunkStorage;
  if (bucket) {
    storage = createS3Storage(bucket);
  } else {
    storage = options.storage as ChunkStorage;
  }
  const database = await createTestDatabase();
  await migrate(database.url);
  const sql = postgres(database.url, { max: 8, onnotice: () => {} });
  const logs: Record<string, unknown>[] = [];
  const log = (line: Record<string, unknown>) => void logs.push(line);
  const config = resolveConfig({
    // Tests sign up many accounts from one address; the rate-limit test sets its own limits.
    rateLimits: { registerPerAddress: { limit: 10_000, windowSeconds: 60 } },
    ...options.config,
  });
  const cacheStore = options.cacheStore ?? createMemoryStore();
  const deps: AppDeps = {
    sql,
    storage,
    cache: cacheStore === "off" ? noCache : createMetadataCache(cacheStore, { log, ...config.cache }),
    clock: options.clock ?? (() => new Date()),
    config,
    log,
    clientAddress: () => "127.0.0.1",
  };
  const app = createApp(deps);
  const client = new ApiClient({
    baseUrl: "http://edge.test",
    fetch: async (input, init) => app.request(input, init),
  });
  return {
    databaseUrl: database.url,
    sql,
    deps,
    app,
    logs,
    client,
    async signUp(email) {
      const session = await client.register({
        email: email ?? `user${++accounts}-${crypto.randomUUID().slice(0, 8)}@example.com`,
        password: "correct horse battery",
        deviceName: "laptop",
      });
      return { ...session, client: client.withToken(session.token) };
    },
    async close() {
      await sql.end({ timeout: 5 });
      await database.drop();
      await bucket?.drop();
    },
  };
}

/** Storage for tests that never reach it (accounts): any call is a test bug, so it throws. */
export const unusedStorage: ChunkStorage = new Proxy({} as ChunkStorage, {
  get(_target, name) {
    return () => Promise.reject(new Error(`storage.${String(name)} was called in a test without storage`));
  },
});
