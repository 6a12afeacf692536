import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface DataDirLock {
  release(): Promise<void>;
}

/**
 * Claims a data folder for this process, so a second `npm start` on the same folder stops with a
 * clear message instead of taking over (and stopping) the first one's PostgreSQL. A lock whose
 * process is gone (a crash, kill -9) is taken over.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const file = join(dataDir, "stack.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: "wx" });
      return { release: () => rm(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number.parseInt(await readFile(file, "utf8").catch(() => ""), 10);
    if (Number.isInteger(holder) && isAlive(holder)) {
      throw new Error(
        `${dataDir} is in use by another local stack (pid ${holder}); stop it first (or delete ${file} if none runs)`,
      );
    }
    await rm(file, { force: true });
  }
  throw new Error(`could not lock ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
