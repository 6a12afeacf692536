import type { Context } from "hono";
import type { Sql } from "postgres";
import type { MetadataCache } from "../cache/metadata-cache.ts";
import type { EdgeConfig } from "../config.ts";
import type { AuthenticatedDevice } from "../device-auth.ts";
import type { ChunkStorage } from "../storage/chunk-storage.ts";

/** One line of structured log (JSON); never carries tokens, passwords or request bodies. */
export type LogSink = (line: Record<string, unknown>) => void;

/** Everything the app needs from the outside world; the runtime entry points build these. */
export interface AppDeps {
  sql: Sql;
  storage: ChunkStorage;
  /** Chunk ownership and file metadata; never the authority (see cache/metadata-cache.ts). */
  cache: MetadataCache;
  clock: () => Date;
  config: EdgeConfig;
  log: LogSink;
  /** The client's network address, for rate limiting (undefined when the runtime cannot tell). */
  clientAddress: (c: Context) => string | undefined;
}

export type AppEnv = {
  Variables: {
    auth: AuthenticatedDevice;
    requestId: string;
    /** Set by the `idempotent` middleware when a change carries an Idempotency-Key. */
    idempotency?: { key: string; requestHash: string };
  };
};

export type AppContext = Context<AppEnv>;
