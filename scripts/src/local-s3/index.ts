import type { AddressInfo } from "node:net";
import { ObjectStore } from "./object-store.ts";
import { createS3Server } from "./server.ts";

/** Where an S3-compatible store is and how to sign for it; the edge API declares the same shape. */
export interface S3Settings {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface LocalS3Options {
  /** Where buckets and objects live; kept across restarts. */
  dataDir: string;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Defaults to a port the OS picks. */
  port?: number;
  accessKeyId: string;
  secretAccessKey: string;
  /** Defaults to us-east-1. */
  region?: string;
  /** Told of the store's own failures (answered as 500 InternalError); silent by default. */
  onInternalError?: (error: unknown) => void;
}

export interface RunningLocalS3 {
  /** Base URL for path-style requests, e.g. http://127.0.0.1:43123 */
  endpoint: string;
  region: string;
  close(): Promise<void>;
}

/**
 * Starts the embedded S3-compatible store: the subset of S3 this system uses, with SigV4 (header and
 * presigned) verified and signed lengths and checksums enforced, objects written atomically to `dataDir`.
 */
export async function startLocalS3(options: LocalS3Options): Promise<RunningLocalS3> {
  const region = options.region ?? "us-east-1";
  const store = await ObjectStore.open(options.dataDir);
  const server = createS3Server(store, {
    region,
    credentials: new Map([[options.accessKeyId, options.secretAccessKey]]),
    onInternalError: options.onInternalError,
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostInUrl = host.includes(":") ? `[${host}]` : host;
  return {
    endpoint: `http://${hostInUrl}:${port}`,
    region,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

export { createScratchBucket, type S3Connection, type ScratchBucket, s3ClientFor } from "./test-bucket.ts";
