import { createNetworkCut, createTestBucket, type NetworkCut, type TestBucket } from "@wsync/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeChunk, putChunk } from "../testing/chunks.ts";
import { createS3Storage } from "./s3-storage.ts";

let bucket: TestBucket;
let network: NetworkCut;
beforeAll(async () => {
  bucket = await createTestBucket();
  network = createNetworkCut();
});
afterAll(async () => {
  await network?.close();
  await bucket?.drop();
});

const settings = () => ({
  endpoint: bucket.endpoint,
  region: bucket.region,
  bucket: bucket.bucket,
  accessKeyId: bucket.accessKeyId,
  secretAccessKey: bucket.secretAccessKey,
});

describe("S3 storage with a public endpoint", () => {
  it("signs URLs for the public endpoint, which work through it, while the API's own calls go direct", async () => {
    const route = await network.route(bucket.endpoint);
    const storage = createS3Storage({ ...settings(), publicEndpoint: route.url });
    const chunk = await makeChunk(`public endpoint ${Math.random()}`);
    const upload = await storage.presignUpload(chunk.hash, chunk.bytes.length, "tag-1", 900);
    expect(upload.url.startsWith(`${route.url}/`)).toBe(true);
    expect((await putChunk(upload.url, upload.headers, chunk.bytes)).status).toBe(200);

    const download = await storage.presignDownload(chunk.hash, 900);
    expect(download.startsWith(`${route.url}/`)).toBe(true);
    expect(new Uint8Array(await (await fetch(download)).arrayBuffer())).toEqual(chunk.bytes);

    // Cut the public path: devices cannot reach the store, the API still can.
    await network.refuse();
    await expect(fetch(download)).rejects.toThrow();
    expect(await storage.headChunk(chunk.hash)).toMatchObject({
      size: chunk.bytes.length,
      uploadTag: "tag-1",
    });
    await network.restore();
  });

  it("without one, URLs name the store's own endpoint", async () => {
    const storage = createS3Storage(settings());
    const chunk = await makeChunk("direct");
    expect((await storage.presignDownload(chunk.hash, 900)).startsWith(`${bucket.endpoint}/`)).toBe(true);
  });
});
