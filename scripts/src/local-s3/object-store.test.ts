import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ObjectMeta, ObjectStore } from "./object-store.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "wsync-object-store-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const metaFor = (key: string, body: Buffer): ObjectMeta => ({
  key,
  size: body.length,
  etag: "etag",
  lastModified: new Date(0).toISOString(),
  contentType: "binary/octet-stream",
  checksums: {},
  userMetadata: {},
});

async function put(store: ObjectStore, key: string, body: Buffer, onlyIfAbsent = false): Promise<void> {
  const pending = await store.beginPut("bucket");
  await new Promise<void>((resolve, reject) => pending.body.end(body, () => resolve()).once("error", reject));
  await pending.commit(metaFor(key, body), { onlyIfAbsent });
}

async function read(store: ObjectStore, key: string): Promise<Buffer | undefined> {
  const stored = await store.get("bucket", key);
  if (!stored) return undefined;
  return buffer(stored.file.createReadStream({ start: 0, end: Math.max(0, stored.meta.size - 1) })).then(
    (bytes) => bytes.subarray(0, stored.meta.size),
  );
}

describe("the object store on disk", () => {
  it("keeps objects and their metadata across a restart", async () => {
    const first = await ObjectStore.open(root);
    await first.createBucket("bucket");
    await put(first, "a/b c.txt", Buffer.from("kept"));
    const second = await ObjectStore.open(root);
    expect((await read(second, "a/b c.txt"))?.toString()).toBe("kept");
    expect((await second.head("bucket", "a/b c.txt"))?.key).toBe("a/b c.txt");
  });

  it("shows nothing of an upload that was aborted, and leaves no temp file", async () => {
    const store = await ObjectStore.open(root);
    await store.createBucket("bucket");
    await put(store, "key", Buffer.from("old"));
    const pending = await store.beginPut("bucket");
    pending.body.write(Buffer.from("half of something new"));
    await pending.abort();
    expect((await read(store, "key"))?.toString()).toBe("old");
    expect(await readdir(join(root, "tmp"))).toEqual([]);
  });

  it("lets a reader finish the version it opened while the key is overwritten and deleted", async () => {
    const store = await ObjectStore.open(root);
    await store.createBucket("bucket");
    await put(store, "key", Buffer.from("first version"));
    const opened = await store.get("bucket", "key");
    await put(store, "key", Buffer.from("second"));
    await store.delete("bucket", "key");
    if (!opened) throw new Error("the object was not there");
    const bytes = await buffer(opened.file.createReadStream({ start: 0, end: 12 }));
    expect(bytes.toString()).toBe("first version");
    expect(await store.head("bucket", "key")).toBeUndefined();
  });

  it("refuses a create-if-absent over an existing key and keeps the old bytes", async () => {
    const store = await ObjectStore.open(root);
    await store.createBucket("bucket");
    await put(store, "key", Buffer.from("old"), true);
    await expect(put(store, "key", Buffer.from("new"), true)).rejects.toMatchObject({
      code: "PreconditionFailed",
    });
    expect((await read(store, "key"))?.toString()).toBe("old");
    expect(await readdir(join(root, "tmp"))).toEqual([]);
  });

  it("throws away temp files a crash left behind when it opens", async () => {
    const store = await ObjectStore.open(root);
    await writeFile(join(root, "tmp", "left-by-a-crash"), "partial");
    await ObjectStore.open(root);
    expect(await readdir(join(root, "tmp"))).toEqual([]);
    expect(store).toBeDefined();
  });

  it("lists keys in order, and refuses to delete a bucket that still holds objects", async () => {
    const store = await ObjectStore.open(root);
    await store.createBucket("bucket");
    for (const key of ["b", "a", "c/d"]) await put(store, key, Buffer.from(key));
    expect((await store.list("bucket")).map((meta) => meta.key)).toEqual(["a", "b", "c/d"]);
    await expect(store.deleteBucket("bucket")).rejects.toMatchObject({ code: "BucketNotEmpty" });
    for (const key of ["a", "b", "c/d"]) await store.delete("bucket", key);
    await store.deleteBucket("bucket");
    expect(await store.bucketExists("bucket")).toBe(false);
  });

  it("refuses bucket names S3 refuses, so no name can leave the data folder", async () => {
    const store = await ObjectStore.open(root);
    for (const name of ["..", "a", "UPPER", "has/slash", "a..b", "192.168.0.1", "-leading"]) {
      await expect(store.createBucket(name)).rejects.toMatchObject({ code: "InvalidBucketName" });
    }
    await expect(store.beginPut("missing")).rejects.toMatchObject({ code: "NoSuchBucket" });
  });
});
