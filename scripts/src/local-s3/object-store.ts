import { createHash, randomBytes } from "node:crypto";
import { type FileHandle, link, mkdir, open, readdir, rename, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { ChecksumAlgorithm } from "./checksums.ts";
import { S3Error } from "./s3-error.ts";

export interface ObjectMeta {
  key: string;
  size: number;
  /** Hex MD5 of the bytes, unquoted. */
  etag: string;
  lastModified: string;
  contentType: string;
  /** The checksums the client sent and the store verified, base64. */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
  userMetadata: Record<string, string>;
}

/** An object being written to a temp file; nothing is visible until `commit`. */
export interface PendingObject {
  body: Writable;
  /** Moves the bytes into place atomically. With `onlyIfAbsent`, fails (PreconditionFailed) if the key exists. */
  commit(meta: ObjectMeta, options?: { onlyIfAbsent?: boolean }): Promise<void>;
  /** Throws the temp file away; safe to call more than once, and after a failed commit. */
  abort(): Promise<void>;
}

export interface StoredObject {
  meta: ObjectMeta;
  /**
   * Open on the object as it was when opened: a later overwrite or delete does not change what it reads.
   * The caller closes it, or hands it to a read stream that closes it (autoClose).
   */
  file: FileHandle;
}

// Each object is ONE file: its bytes, then its metadata as JSON, the JSON's length and a magic tag. One
// rename (or link) publishes bytes and metadata together, so a reader never sees one without the other.
const MAGIC = Buffer.from("ls3\u0001");
const FOOTER = 8;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const noSuchBucket = () => new S3Error("NoSuchBucket", 404, "The specified bucket does not exist");

/** Buckets and objects on the local disk, written atomically and durably (fsync, rename, fsync dir). */
export class ObjectStore {
  private constructor(private readonly root: string) {}

  static async open(root: string): Promise<ObjectStore> {
    await mkdir(join(root, "buckets"), { recursive: true });
    // Leftovers of uploads cut off by a crash: never committed, so never visible; just reclaim the space.
    await rm(join(root, "tmp"), { recursive: true, force: true });
    await mkdir(join(root, "tmp"), { recursive: true });
    return new ObjectStore(root);
  }

  static isValidBucketName(name: string): boolean {
    return BUCKET_NAME.test(name) && !name.includes("..") && !/^\d+\.\d+\.\d+\.\d+$/.test(name);
  }

  async createBucket(name: string): Promise<"created" | "exists"> {
    if (!ObjectStore.isValidBucketName(name)) {
      throw new S3Error("InvalidBucketName", 400, "The specified bucket is not valid");
    }
    try {
      await mkdir(this.bucketDir(name));
    } catch (error) {
      if (isCode(error, "EEXIST")) return "exists";
      throw error;
    }
    await syncDir(join(this.root, "buckets"));
    return "created";
  }

  async bucketExists(name: string): Promise<boolean> {
    if (!ObjectStore.isValidBucketName(name)) return false;
    try {
      await (await open(this.bucketDir(name), "r")).close();
      return true;
    } catch (error) {
      if (isCode(error, "ENOENT")) return false;
      throw error;
    }
  }

  async deleteBucket(name: string): Promise<void> {
    await this.requireBucket(name);
    if ((await this.list(name)).length > 0) {
      throw new S3Error("BucketNotEmpty", 409, "The bucket you tried to delete is not empty");
    }
    await rm(this.bucketDir(name), { recursive: true, force: true });
  }

  async beginPut(bucket: string): Promise<PendingObject> {
    await this.requireBucket(bucket);
    const tempPath = join(this.root, "tmp", randomBytes(12).toString("hex"));
    const file = await open(tempPath, "wx", 0o644);
    // Not file.createWriteStream(): a FileHandle stream holds the handle, so the close() that must
    // follow the fsync would wait for it forever. Sequential writes at the current position instead.
    const body = new Writable({
      write: (chunk: Buffer, _encoding, callback) => void file.write(chunk).then(() => callback(), callback),
      writev: (chunks, callback) =>
        void file.writev(chunks.map(({ chunk }) => chunk as Buffer)).then(() => callback(), callback),
    });
    let settled = false;
    const abort = async () => {
      if (settled) return;
      settled = true;
      body.destroy();
      await file.close().catch(() => {});
      await unlink(tempPath).catch(() => {});
    };
    const commit = async (meta: ObjectMeta, options: { onlyIfAbsent?: boolean } = {}) => {
      if (settled) throw new Error("this upload was already committed or aborted");
      try {
        const json = Buffer.from(JSON.stringify(meta));
        const footer = Buffer.alloc(FOOTER);
        footer.writeUInt32BE(json.length, 0);
        MAGIC.copy(footer, 4);
        const tail = Buffer.concat([json, footer]);
        await file.write(tail, 0, tail.length, meta.size);
        await file.sync();
        await file.close();
        const target = this.objectPath(bucket, meta.key);
        await mkdir(join(target, ".."), { recursive: true });
        if (options.onlyIfAbsent) {
          // link() fails if the name exists: an atomic create-if-absent, unlike a check then a rename.
          await link(tempPath, target).catch((error: unknown) => {
            if (isCode(error, "EEXIST")) {
              throw new S3Error(
                "PreconditionFailed",
                412,
                "At least one of the pre-conditions you specified did not hold",
              );
            }
            throw error;
          });
          await unlink(tempPath);
        } else {
          await rename(tempPath, target);
        }
        settled = true;
      } catch (error) {
        await abort();
        throw error;
      }
      await syncDir(join(this.objectPath(bucket, meta.key), ".."));
    };
    return { body, commit, abort };
  }

  /** The object for reading, or undefined if there is none. The caller closes `file`. */
  async get(bucket: string, key: string): Promise<StoredObject | undefined> {
    await this.requireBucket(bucket);
    let file: FileHandle;
    try {
      file = await open(this.objectPath(bucket, key), "r");
    } catch (error) {
      if (isCode(error, "ENOENT")) return undefined;
      throw error;
    }
    try {
      return { meta: await readMeta(file), file };
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  async head(bucket: string, key: string): Promise<ObjectMeta | undefined> {
    const stored = await this.get(bucket, key);
    await stored?.file.close();
    return stored?.meta;
  }

  /** Deletes the object; deleting one that is not there is not an error (as in S3). */
  async delete(bucket: string, key: string): Promise<void> {
    await this.requireBucket(bucket);
    const path = this.objectPath(bucket, key);
    try {
      await unlink(path);
    } catch (error) {
      if (isCode(error, "ENOENT")) return;
      throw error;
    }
    await syncDir(join(path, ".."));
  }

  /** Every object of the bucket, sorted by key (read from each file: fine for a local store's sizes). */
  async list(bucket: string): Promise<ObjectMeta[]> {
    await this.requireBucket(bucket);
    const metas: ObjectMeta[] = [];
    for (const fan of await readdir(this.bucketDir(bucket))) {
      const names = await readdir(join(this.bucketDir(bucket), fan)).catch(() => [] as string[]);
      for (const name of names) {
        const file = await open(join(this.bucketDir(bucket), fan, name), "r").catch(() => undefined);
        if (!file) continue; // deleted meanwhile
        try {
          metas.push(await readMeta(file));
        } finally {
          await file.close();
        }
      }
    }
    return metas.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private async requireBucket(name: string): Promise<void> {
    if (!(await this.bucketExists(name))) throw noSuchBucket();
  }

  private bucketDir(name: string): string {
    return join(this.root, "buckets", name);
  }

  // Keys may hold any characters and be 1024 bytes long, so files are named by the key's hash.
  private objectPath(bucket: string, key: string): string {
    const hash = createHash("sha256").update(key).digest("hex");
    return join(this.bucketDir(bucket), hash.slice(0, 2), hash);
  }
}

async function readMeta(file: FileHandle): Promise<ObjectMeta> {
  const { size } = await file.stat();
  const footer = Buffer.alloc(FOOTER);
  if (size < FOOTER) throw new Error("corrupt object file: too short");
  await file.read(footer, 0, FOOTER, size - FOOTER);
  if (!footer.subarray(4).equals(MAGIC)) throw new Error("corrupt object file: no footer");
  const length = footer.readUInt32BE(0);
  const json = Buffer.alloc(length);
  await file.read(json, 0, length, size - FOOTER - length);
  const meta = JSON.parse(json.toString("utf8")) as ObjectMeta;
  if (meta.size !== size - FOOTER - length) throw new Error("corrupt object file: size does not match");
  return meta;
}

async function syncDir(path: string): Promise<void> {
  const dir = await open(path, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}
