import { describe, expect, it } from "vitest";
import { MemoryFileSystem } from "../engine/index.ts";
import { guardedFileSystem, HeldForUnsavedEditsError } from "./guarded-fs.ts";

async function write(fs: MemoryFileSystem, path: string, text: string) {
  const handle = await fs.createExclusive(path);
  await handle.write(new TextEncoder().encode(text));
  await handle.close();
}

async function read(fs: MemoryFileSystem, path: string) {
  const handle = await fs.openRead(path);
  const buffer = new Uint8Array(100);
  const length = await handle.read(buffer, 0);
  await handle.close();
  return new TextDecoder().decode(buffer.subarray(0, length));
}

describe("guardedFileSystem", () => {
  it("refuses to land a download over a file the guard holds, and leaves it untouched", async () => {
    const inner = new MemoryFileSystem();
    await write(inner, "notes.md", "mine");
    await write(inner, ".wsync-tmp-1", "theirs");
    const fs = guardedFileSystem(inner, { allowsReplace: (path) => path !== "notes.md" });
    await expect(fs.rename(".wsync-tmp-1", "notes.md")).rejects.toBeInstanceOf(HeldForUnsavedEditsError);
    expect(await read(inner, "notes.md")).toBe("mine");
  });

  it("passes everything else through to the real file system", async () => {
    const inner = new MemoryFileSystem();
    await write(inner, ".wsync-tmp-1", "theirs");
    const fs = guardedFileSystem(inner, { allowsReplace: () => true });
    await fs.mkdir("docs");
    await fs.rename(".wsync-tmp-1", "docs/notes.md");
    expect(await read(inner, "docs/notes.md")).toBe("theirs");
    expect(await fs.readdir("docs")).toEqual(["notes.md"]);
    expect((await fs.lstat("docs/notes.md"))?.kind).toBe("file");
  });

  it("reports changes from the watcher it is given instead of the engine's", () => {
    const inner = new MemoryFileSystem();
    const seen: Array<string | null> = [];
    let feed: ((path: string | null) => void) | undefined;
    const fs = guardedFileSystem(inner, {
      allowsReplace: () => true,
      watch: (onChange) => {
        feed = onChange;
        return { close: () => {} };
      },
    });
    const handle = fs.watch?.(
      (path) => seen.push(path),
      () => {},
    );
    feed?.("a.md");
    feed?.(null);
    handle?.close();
    expect(seen).toEqual(["a.md", null]);
  });
});
