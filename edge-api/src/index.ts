export type { EdgeConfig, EdgeConfigOverrides } from "./config.ts";
export { migrate } from "./db/migrate.ts";
export { createApp } from "./http/app.ts";
export type { AppDeps, LogSink } from "./http/context.ts";
export { type EdgeApiOptions, type RunningEdgeApi, type S3Settings, startEdgeApi } from "./node.ts";
export type { ChunkStorage } from "./storage/chunk-storage.ts";
export { createS3Storage } from "./storage/s3-storage.ts";
