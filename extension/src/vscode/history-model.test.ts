import { ChunkHash, type FileVersion } from "@wsync/shared-protocol";
import { describe, expect, it } from "vitest";
import {
  deletedFileItems,
  deletedGroupItem,
  HistoryContext,
  latestRestorableVersion,
  versionItems,
} from "./history-model.ts";

const hash = (n: number) => ChunkHash.parse(`sha256:${n.toString(16).padStart(64, "0")}`);
const now = new Date("2026-03-15T12:00:00Z");

function version(n: number, overrides: Partial<FileVersion> = {}): FileVersion {
  return {
    version: n,
    size: 1000 * n,
    chunks: [hash(n)],
    action: n === 1 ? "created" : "modified",
    name: "notes.md",
    parentId: "folder-1",
    deviceId: "dev-1",
    deviceName: "laptop",
    createdAt: new Date(now.getTime() - (10 - n) * 3600_000).toISOString(),
    ...overrides,
  };
}

describe("versionItems", () => {
  const versions = [version(3), version(2, { deviceName: "desktop" }), version(1)];
  const items = versionItems("f-1", "docs/notes.md", versions, now);

  it("shows when, which version, what, by which device and how big", () => {
    expect(items.map((entry) => [entry.item.label, entry.item.description])).toEqual([
      ["7 hours ago", "v3 · modified · laptop · 2.9 KB · current"],
      ["8 hours ago", "v2 · modified · desktop · 2.0 KB"],
      ["9 hours ago", "v1 · created · laptop · 1000 B"],
    ]);
  });

  it("marks the newest as current and lets the older ones be compared and restored", () => {
    expect(items.map((entry) => entry.item.contextValue)).toEqual([
      HistoryContext.currentVersion,
      HistoryContext.version,
      HistoryContext.version,
    ]);
    expect(items[0]?.item.command?.command).toBe("wsync.history.open");
    expect(items[1]?.item.command?.command).toBe("wsync.history.compare");
  });

  it("names each version for the read-only document", () => {
    expect(items[1]?.ref).toEqual({ fileId: "f-1", version: 2, path: "docs/notes.md" });
  });

  it("gives ids stable across refreshes and unique per version", () => {
    const again = versionItems("f-1", "docs/notes.md", versions, new Date(now.getTime() + 60_000));
    expect(again.map((entry) => entry.item.id)).toEqual(items.map((entry) => entry.item.id));
    expect(new Set(items.map((entry) => entry.item.id)).size).toBe(items.length);
  });

  it("opens a version renamed since under its name of then", () => {
    const renamed = versionItems("f-1", "docs/notes.md", [version(2), version(1, { name: "draft.md" })], now);
    expect(renamed[1]?.ref?.path).toBe("docs/draft.md");
    expect(renamed[1]?.item.tooltip).toContain("named `draft.md` then");
  });

  it("a deletion has no content to open, compare or restore", () => {
    const deleted = versionItems(
      "f-1",
      "a.md",
      [version(3, { action: "deleted", size: 0, chunks: [] }), version(2)],
      now,
      {
        deleted: true,
      },
    );
    expect(deleted[0]?.item.contextValue).toBe(HistoryContext.deletionMarker);
    expect(deleted[0]?.ref).toBeUndefined();
    expect(deleted[0]?.item.command).toBeUndefined();
    expect(deleted[0]?.item.description).toBe("v3 · deleted · laptop");
    expect(deleted[1]?.item.contextValue).toBe(HistoryContext.deletedVersion);
    expect(deleted[1]?.item.command?.command).toBe("wsync.history.open");
  });

  it("says so when the device is unknown (revoked and gone)", () => {
    const [entry] = versionItems("f", "a", [version(1, { deviceName: null, deviceId: null })], now);
    expect(entry?.item.description).toContain("an unknown device");
  });
});

describe("Recently deleted", () => {
  it("counts the files in the group", () => {
    expect(deletedGroupItem(2)).toMatchObject({ label: "Recently deleted", description: "2 files" });
  });

  it("lists the newest deletion first, with its folder and age", () => {
    const items = deletedFileItems(
      [
        { fileId: "a", path: "old.txt", deletedAt: "2026-03-10T12:00:00Z", version: 4 },
        { fileId: "b", path: "src/new.ts", deletedAt: "2026-03-15T11:00:00Z", version: 2 },
      ],
      now,
    );
    expect(items.map((item) => [item.label, item.description, item.contextValue])).toEqual([
      ["new.ts", "src · deleted 1 hour ago", HistoryContext.deletedFile],
      ["old.txt", "deleted 5 days ago", HistoryContext.deletedFile],
    ]);
  });

  it("restores a deleted file from its newest version with content", () => {
    const versions = [version(3, { action: "deleted" }), version(2), version(1)];
    expect(latestRestorableVersion(versions)?.version).toBe(2);
    expect(latestRestorableVersion([version(1, { action: "deleted" })])).toBeUndefined();
  });
});
