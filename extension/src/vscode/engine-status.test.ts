import { describe, expect, it } from "vitest";
import type { EngineStatus } from "../engine/index.ts";
import { type StatusInputs, snapshotFromEngine } from "./engine-status.ts";
import { presentStatus } from "./status-model.ts";

const engine = (overrides: Partial<EngineStatus> = {}): EngineStatus => ({
  state: "idle",
  notifications: "connected",
  lastSyncAt: "2026-03-15T11:59:00.000Z",
  lastError: null,
  skipped: [],
  deferred: [],
  problems: [],
  transfers: {
    bytesUploaded: 0,
    chunksUploaded: 0,
    bytesDownloaded: 0,
    chunksDownloaded: 0,
    chunksReused: 0,
  },
  conflicts: [],
  ...overrides,
});

const inputs = (overrides: Partial<StatusInputs> = {}): StatusInputs => ({
  account: "ada@example.com",
  engine: engine(),
  pausedSetting: false,
  transfer: { active: 0, progress: { filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 } },
  held: 0,
  conflicts: 0,
  ...overrides,
});

const now = new Date("2026-03-15T12:00:00Z");
const kindOf = (overrides: Partial<StatusInputs>) =>
  presentStatus(snapshotFromEngine(inputs(overrides)), now).kind;

describe("the status bar from the engine's state", () => {
  it("maps each engine state to what the user sees", () => {
    expect(kindOf({})).toBe("synced");
    expect(kindOf({ engine: engine({ state: "syncing" }) })).toBe("syncing");
    expect(kindOf({ engine: engine({ state: "offline" }) })).toBe("offline");
    expect(kindOf({ engine: engine({ state: "paused" }) })).toBe("paused");
    expect(kindOf({ engine: engine({ state: "error", lastError: { code: "x", message: "boom" } }) })).toBe(
      "failed",
    );
    expect(kindOf({ engine: engine({ state: "unauthorized" }) })).toBe("signedOut");
    expect(kindOf({ account: undefined, engine: undefined })).toBe("signedOut");
  });

  it("counts files moving now and the conflicts in the folder", () => {
    const snapshot = snapshotFromEngine(
      inputs({
        engine: engine({ state: "syncing" }),
        transfer: { active: 2, progress: { filesDone: 1, filesTotal: 3, bytesDone: 10, bytesTotal: 40 } },
        conflicts: 1,
      }),
    );
    expect(snapshot.transfer).toEqual({ files: 2, bytesDone: 10, bytesTotal: 40 });
    expect(presentStatus(snapshot, now).text).toBe("$(sync~spin) Syncing 2 files $(warning) 1");
  });

  it("shows a round failed only by downloads held over unsaved edits as waiting, not failed", () => {
    const held = { code: "held_unsaved_edits", message: "notes.md has unsaved edits" };
    expect(kindOf({ engine: engine({ state: "error", lastError: held }), held: 1 })).toBe("waiting");
    const other = { code: "ENOSPC", message: "disk full" };
    expect(kindOf({ engine: engine({ state: "error", lastError: other }), held: 1 })).toBe("failed");
  });

  it("shows the pause setting before the engine has caught up with it", () => {
    expect(kindOf({ pausedSetting: true })).toBe("paused");
  });

  it("carries the last sync time, the last error and skipped items into the details", () => {
    const snapshot = snapshotFromEngine(
      inputs({
        engine: engine({
          lastError: { code: "network_error", message: "ECONNREFUSED" },
          skipped: [{ path: "link", reason: "symlink" }],
        }),
      }),
    );
    expect(snapshot.lastSyncedAt?.toISOString()).toBe("2026-03-15T11:59:00.000Z");
    expect(snapshot.lastError).toBe("ECONNREFUSED");
    expect(snapshot.skipped).toBe(1);
  });
});
