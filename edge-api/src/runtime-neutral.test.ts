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

/** Relative `.ts` modules reachable from `entry` by static imports, and the bare packages they import. */
async function importGraph(entry: string) {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = async (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = await readFile(file, "utf8");
    for (const match of text.matchAll(/^(?:import|export)\s[^;]*?from\s+["']([^"']+)["']/gm)) {
      const specifier = match[1] ?? "";
      if (specifier.startsWith(".")) await visit(join(file, "..", specifier));
      else packages.add(specifier);
    }
  };
  await visit(join(srcDir, entry));
  return { modules: [...seen].map((file) => relative(srcDir, file)), packages };
}

describe("the Redis client", () => {
  it("is loaded by the Node entry only: nothing the app or the Deno entry imports reaches it", async () => {
    for (const entry of ["http/app.ts", "deno.ts"]) {
      const graph = await importGraph(entry);
      expect(graph.modules, entry).not.toContain("cache/redis-store.ts");
      expect(
        [...graph.packages].filter((name) => /redis/.test(name)),
        entry,
      ).toEqual([]);
    }
    const node = await importGraph("node.ts");
    expect(node.modules).toContain("cache/redis-store.ts");
    expect(node.packages).toContain("ioredis");
  });
});
