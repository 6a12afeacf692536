/**
 * The headless sync engine: no `vscode` here. The extension, the CLI and the tests drive it through
 * `createSyncEngine`; the rest is exported for tools and tests that need the pieces.
 */

export { type ChunkingOptions, DEFAULT_CHUNK_SIZES, DEFAULT_CHUNKING } from "./chunking/chunker.ts";
export { createSyncEngine, type SyncEngine, type SyncEngineOptions } from "./engine.ts";
export type { ConflictEvent, EngineEventName, EngineEvents, EngineState, EngineStatus } from "./events.ts";
export { MemoryFileSystem } from "./fs/memory-fs.ts";
export { NodeFileSystem } from "./fs/node-fs.ts";
export type { FileStat, FileSystem } from "./fs/types.ts";
export type { DeletedFile, History } from "./history.ts";
export { conflictedCopyName, isConflictedCopyName } from "./plan/conflict-name.ts";
export type { SkippedEntry } from "./scan/scanner.ts";
export { enableGarbagePacing } from "./transfer/garbage-pacer.ts";
export type { TransferProgress, TransferSnapshot } from "./transfer/stats.ts";
