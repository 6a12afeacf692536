import { createHash } from "node:crypto";
import { lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pLimit from "p-limit";
import { seededBytes } from "./data.ts";

/**
 * A workspace of `files` small files (100 B to 8 KiB, like source files), 100 to a folder, folders
 * grouped by 100 under top-level folders: `files` = 100,000 makes 10 top folders, 1,000 folders.
 * With `distinct` below `files`, file i has the content of file i mod `distinct` (same size too).
 */
export async function makeWorkspace(
  root: string,
  files: number,
  seed = "workspace",
  distinct = files,
): Promise<void> {
  const pool = seededBytes(seed, 1024 * 1024);
  const limit = pLimit(16);
  const jobs: Promise<void>[] = [];
  for (let folder = 0; folder * 100 < files; folder++) {
    const dir = join(root, `top-${Math.floor(folder / 100)}`, `folder-${folder}`);
    await mkdir(dir, { recursive: true });
    for (let i = folder * 100; i < Math.min(files, (folder + 1) * 100); i++) {
      const content = i % distinct;
      const size = 100 + ((content * 2654435761) % 8092);
      const offset = (content * 7919) % (pool.length - size);
      jobs.push(limit(() => writeFile(join(dir, `file-${i}.txt`), pool.subarray(offset, offset + size))));
    }
  }
  await Promise.all(jobs);
}

/**
 * The floor a scanner is measured against: walk the folder, and per file either lstat it only, or also
 * read it and take its SHA-256, `concurrency` files at a time (the engine's default is 4).
 */
export async function plainWalk(root: string, mode: "lstat" | "hash", concurrency = 4): Promise<number> {
  const limit = pLimit(concurrency);
  let count = 0;
  const visit = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    await Promise.all(
      entries.map(async (entry) => {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          await lstat(path);
          return visit(path);
        }
        await limit(async () => {
          await lstat(path);
          if (mode === "hash")
            createHash("sha256")
              .update(await readFile(path))
              .digest();
          count++;
        });
      }),
    );
  };
  await visit(root);
  return count;
}
