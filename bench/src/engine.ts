/**
 * The engine's code, read-only. Its package exports only the engine's front door (`wsync/engine`), so
 * the pieces a benchmark measures alone are imported by path.
 */
export { chunkFile } from "../../extension/src/engine/chunking/chunk-file.ts";
export {
  type ChunkingOptions,
  cutPoints,
  DEFAULT_CHUNKING,
} from "../../extension/src/engine/chunking/chunker.ts";
export { WorkerHasher } from "../../extension/src/engine/chunking/hasher.ts";
export {
  createSyncEngine,
  type SyncEngine,
  type SyncEngineOptions,
} from "../../extension/src/engine/engine.ts";
export { NodeFileSystem } from "../../extension/src/engine/fs/node-fs.ts";
export { IgnoreRules } from "../../extension/src/engine/scan/ignore-rules.ts";
export { type LocalEntry, Scanner } from "../../extension/src/engine/scan/scanner.ts";
