import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lockDataDir } from "./data-dir-lock.ts";

describe("the data folder lock", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "wsync-lock-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("refuses a second claim while the holder lives, and allows it once released", async () => {
    const first = await lockDataDir(dir);
    await expect(lockDataDir(dir)).rejects.toThrow(`in use by another local stack (pid ${process.pid})`);
    await first.release();
    const again = await lockDataDir(dir);
    await again.release();
  });

  it("takes over the lock of a process that is gone", async () => {
    const gone = spawnSync(process.execPath, [
      "-e",
      "process.stdout.write(String(process.pid))",
    ]).stdout.toString();
    await writeFile(join(dir, "stack.pid"), `${gone}\n`);
    const lock = await lockDataDir(dir);
    await lock.release();
  });
});
