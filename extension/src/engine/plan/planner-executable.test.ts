import { describe, expect, it } from "vitest";
import type { RemoteEntry } from "../model/types.ts";
import { planSync } from "./planner.ts";
import { hashOf, world } from "./planner-fixtures.ts";

/** The executable bit is part of a file's content: a chmod alone is a change to sync (POSIX only). */

function withLocalMode(input: ReturnType<typeof world>, path: string, mode: number) {
  const entry = input.local.get(path);
  if (!entry) throw new Error(`no local ${path}`);
  (input.local as Map<string, typeof entry>).set(path, { ...entry, mode });
  return input;
}

function withRemote(input: ReturnType<typeof world>, fileId: string, change: Partial<RemoteEntry>) {
  const entry = input.remote.get(fileId) as RemoteEntry;
  (input.remote as Map<string, RemoteEntry>).set(fileId, {
    ...entry,
    version: entry.version + 1,
    deviceId: "other",
    ...change,
  });
  return input;
}

describe.skipIf(process.platform === "win32")("planning the executable bit", () => {
  it("a local chmod +x alone is a push of the same content", () => {
    const input = withLocalMode(world({ synced: { "run.sh": "echo" } }), "run.sh", 0o755);
    expect(planSync(input).actions).toEqual([
      expect.objectContaining({ type: "push", fileId: "id:run.sh", content: true, move: null }),
    ]);
  });

  it("a bit changed on the server alone is a pull of content, from the local file", () => {
    const input = withRemote(world({ synced: { "run.sh": "echo" } }), "id:run.sh", { executable: true });
    expect(planSync(input).actions).toEqual([
      expect.objectContaining({ type: "pull", fileId: "id:run.sh", content: true, to: "run.sh" }),
    ]);
  });

  it("the same chmod on both sides is adopted: nothing to send", () => {
    const input = withRemote(
      withLocalMode(world({ synced: { "run.sh": "echo" } }), "run.sh", 0o755),
      "id:run.sh",
      { executable: true },
    );
    expect(planSync(input).actions.map((action) => action.type)).toEqual(["adopt"]);
  });

  it("a chmod here against an edit there keeps both: the local file becomes the conflicted copy", () => {
    const input = withRemote(
      withLocalMode(world({ synced: { "run.sh": "echo" } }), "run.sh", 0o755),
      "id:run.sh",
      { chunks: [hashOf("echo 2")], size: 6 },
    );
    expect(planSync(input).actions).toEqual([
      expect.objectContaining({ type: "conflictCopy", path: "run.sh" }),
    ]);
  });

  it("an unchanged file whose synced mode was executable stays unchanged (no bit change)", () => {
    const input = world({ synced: { "run.sh": "echo" } });
    const synced = input.synced.get("id:run.sh");
    if (!synced) throw new Error("no synced entry");
    (input.synced as Map<string, typeof synced>).set("id:run.sh", {
      ...synced,
      mode: 0o755,
      executable: true,
    });
    withLocalMode(input, "run.sh", 0o755);
    withRemote(input, "id:run.sh", { executable: true, version: 1 });
    expect(planSync(input).actions).toEqual([]);
  });

  it("a file executable here whose synced state predates the bit sends it (the server holds false for it)", () => {
    const input = world({ synced: { "run.sh": "echo", "plain.txt": "text" } });
    for (const [fileId, mode] of [
      ["id:run.sh", 0o755],
      ["id:plain.txt", 0o644],
    ] as const) {
      const synced = input.synced.get(fileId);
      if (!synced) throw new Error("no synced entry");
      const { executable: _unrecorded, ...before } = { ...synced, mode };
      (input.synced as Map<string, typeof synced>).set(fileId, before);
    }
    withLocalMode(withLocalMode(input, "run.sh", 0o755), "plain.txt", 0o644);
    expect(planSync(input).actions).toEqual([
      expect.objectContaining({ type: "push", fileId: "id:run.sh", content: true, move: null }),
    ]);
  });
});
