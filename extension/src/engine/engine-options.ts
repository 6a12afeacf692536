import type { FetchLike } from "@wsync/shared-protocol";
import type { ChunkingOptions } from "./chunking/chunker.ts";
import type { Emitter, EngineStatus } from "./events.ts";
import type { FileSystem } from "./fs/types.ts";
import type { History } from "./history.ts";

export interface SyncEngineOptions {
  /** The workspace folder to keep in sync (absolute path). */
  folder: string;
  /** Where the engine keeps its state: outside the synced folder (e.g. the extension's storage). */
  stateDir: string;
  /** The edge API, e.g. `http://127.0.0.1:8787`. */
  apiUrl: string;
  /** The notifier's HTTP base, e.g. `http://127.0.0.1:8788`; without it, no push notifications. */
  notifierUrl?: string;
  token: string;
  deviceId: string;
  /** Shown in conflicted copies' names. */
  deviceName: string;
  chunking?: ChunkingOptions;
  /** Chunks in flight, and items handled at once. Default 4. */
  concurrency?: number;
  /** More patterns not to sync, in .gitignore syntax. */
  ignorePatterns?: string[];
  /** React to file-system events (default true). Without it, only `syncNow` and notifications sync. */
  watch?: boolean;
  /** Listen to the notifier (default true when `notifierUrl` is set). */
  notifications?: boolean;
  /** Bytes of chunks of removed or replaced files kept in the state folder for reuse. Default 256 MiB; 0: none. */
  chunkCacheBytes?: number;
  /** Threads chunking and hashing files; 0 does it all on the main thread. Default: one per core. */
  hashThreads?: number;
  /** Quiet time after the last file event before syncing. Default 150 ms. */
  debounceMs?: number;
  /** For tests and embedders: the file system and the HTTP client. */
  fileSystem?: FileSystem;
  fetch?: FetchLike;
  now?: () => Date;
}

export interface SyncEngine {
  readonly folder: string;
  /** Opens the state, scans, catches up and keeps syncing (watcher and notifier) until `stop`. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A full rescan and catch-up; resolves when this device agrees with the server (or cannot progress). */
  syncNow(): Promise<void>;
  pause(): void;
  resume(): void;
  status(): EngineStatus;
  on: Emitter["on"];
  /** Version history and restore. */
  readonly history: History;
}
