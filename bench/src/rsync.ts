import { spawn } from "node:child_process";

export interface RsyncStats {
  literalBytes: number;
  sentBytes: number;
}

/** Reads "Literal data" and "Total bytes sent" from `rsync --stats` output (numbers with thousands separators). */
export function parseRsyncStats(output: string): RsyncStats {
  const field = (name: string) => {
    const match = new RegExp(`^${name}: ([\\d,.]+)`, "m").exec(output);
    if (!match) throw new Error(`rsync --stats output has no "${name}"`);
    return Number((match[1] as string).replaceAll(",", ""));
  };
  return { literalBytes: field("Literal data"), sentBytes: field("Total bytes sent") };
}

/**
 * Mirrors `from/` into `to/` with the delta algorithm even though both are local (--no-whole-file),
 * checking every file whatever its time stamp (-I). Without --fuzzy, as the issue asks: a renamed
 * file is sent in full.
 */
export function rsyncMirror(from: string, to: string): Promise<RsyncStats> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "rsync",
      ["-a", "-I", "--delete", "--no-whole-file", "--stats", `${from}/`, `${to}/`],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`rsync exited with ${code}`));
      try {
        resolve(parseRsyncStats(output));
      } catch (error) {
        reject(error);
      }
    });
  });
}
