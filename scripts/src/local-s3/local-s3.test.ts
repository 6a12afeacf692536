import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe } from "vitest";
import { type RunningLocalS3, startLocalS3 } from "./index.ts";
import { s3Contract } from "./s3-contract.ts";
import { createScratchBucket } from "./test-bucket.ts";

describe("the S3 contract, against the embedded store", () => {
  s3Contract(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "wsync-local-s3-"));
    const credentials = { accessKeyId: "AKIDCONTRACT", secretAccessKey: "contract-secret" };
    const store: RunningLocalS3 = await startLocalS3({ dataDir, ...credentials });
    const bucket = await createScratchBucket({
      endpoint: store.endpoint,
      region: store.region,
      ...credentials,
    });
    return {
      ...bucket,
      async drop() {
        await bucket.drop();
        // Every upload, refused ones included, must have left the temp folder empty.
        const leftovers = await readdir(join(dataDir, "tmp"));
        await store.close();
        await rm(dataDir, { recursive: true, force: true });
        if (leftovers.length > 0) throw new Error(`temp files left behind: ${leftovers.join(", ")}`);
      },
    };
  });
});
