import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const srcDir = fileURLToPath(new URL(".", import.meta.url));
/** Startup and runtime wiring, which may use the runtime's own APIs; everything else serves requests. */
const runtimeSpecific = new Set(["node.ts", "deno.ts", "db/migrate.ts"]);

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : [join(dir, entry.name)],
    ),
  );
  return nested.flat();
}

describe("the request path", () => {
  it("imports nothing from node: and uses no Buffer (Web APIs only, so it runs on Deno and edges)", async () => {
    const offenders: string[] = [];
    for (const file of await sourceFiles(srcDir)) {
      const name = relative(srcDir, file);
      if (!name.endsWith(".ts") || name.endsWith(".test.ts") || name.startsWith("testing/")) continue;
      if (runtimeSpecific.has(name)) continue;
      const text = await readFile(file, "utf8");
      if (/from\s+["']node:|\bBuffer\./.test(text)) offenders.push(name);
    }
    expect(offenders).toEqual([]);
  });
});
