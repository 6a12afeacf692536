import { describe, expect, it } from "vitest";
import { presentStatus, type StatusSnapshot, statusDetails } from "./status-model.ts";

const now = new Date("2026-03-15T12:00:00Z");
const synced: StatusSnapshot = {
  signedIn: true,
  account: "ada@example.com",
  paused: false,
  online: true,
  syncing: false,
  transfer: null,
  held: 0,
  skipped: 0,
  conflicts: 0,
  failed: false,
  lastSyncedAt: new Date("2026-03-15T11:58:00Z"),
};

describe("presentStatus", () => {
  it("shows synced when idle, online and without conflicts", () => {
    const shown = presentStatus(synced, now);
    expect(shown).toMatchObject({ kind: "synced", text: "$(check) Synced", warning: false });
    expect(shown.tooltip).toContain("ada@example.com");
    expect(shown.tooltip).toContain("Last synced 2 minutes ago");
  });

  it("shows how many files are syncing, and keeps counting conflicts beside them", () => {
    const transfer = { files: 3, bytesDone: 1024, bytesTotal: 4096 };
    expect(presentStatus({ ...synced, transfer }, now).text).toBe("$(sync~spin) Syncing 3 files");
    expect(presentStatus({ ...synced, transfer, conflicts: 2 }, now).text).toBe(
      "$(sync~spin) Syncing 3 files $(warning) 2",
    );
    expect(presentStatus({ ...synced, transfer: { ...transfer, files: 1 } }, now).text).toBe(
      "$(sync~spin) Syncing 1 file",
    );
  });

  it("shows the number of conflicts as a warning", () => {
    const shown = presentStatus({ ...synced, conflicts: 1 }, now);
    expect(shown).toMatchObject({ kind: "conflicts", text: "$(warning) 1 conflict", warning: true });
    expect(presentStatus({ ...synced, conflicts: 4 }, now).text).toBe("$(warning) 4 conflicts");
  });

  it("puts signed out before paused, paused before offline, offline before syncing", () => {
    const everything: StatusSnapshot = {
      ...synced,
      paused: true,
      online: false,
      transfer: { files: 2, bytesDone: 0, bytesTotal: 10 },
      conflicts: 3,
    };
    expect(presentStatus({ ...everything, signedIn: false }, now).kind).toBe("signedOut");
    expect(presentStatus(everything, now).kind).toBe("paused");
    expect(presentStatus({ ...everything, paused: false }, now)).toMatchObject({
      kind: "offline",
      text: "$(cloud-offline) Offline",
    });
    expect(presentStatus({ ...everything, paused: false, online: true }, now).kind).toBe("syncing");
  });

  it("an empty transfer is not syncing", () => {
    const shown = presentStatus({ ...synced, transfer: { files: 0, bytesDone: 0, bytesTotal: 0 } }, now);
    expect(shown.kind).toBe("synced");
  });

  it("shows a pass that moves no bytes yet (scanning) as syncing, without a count", () => {
    expect(presentStatus({ ...synced, syncing: true }, now).text).toBe("$(sync~spin) Syncing…");
  });

  it("shows downloads held over unsaved edits until the user decides", () => {
    expect(presentStatus({ ...synced, held: 2 }, now)).toMatchObject({
      kind: "waiting",
      text: "$(warning) 2 files waiting",
      warning: true,
    });
  });

  it("shows a failing sync as a warning, after offline", () => {
    expect(presentStatus({ ...synced, failed: true }, now)).toMatchObject({ kind: "failed", warning: true });
    expect(presentStatus({ ...synced, failed: true, online: false }, now).kind).toBe("offline");
  });
});

describe("statusDetails", () => {
  it("lists progress, held and skipped files, conflicts and the last error", () => {
    const lines = statusDetails(
      {
        ...synced,
        transfer: { files: 2, bytesDone: 1536, bytesTotal: 3 * 1024 * 1024 },
        held: 1,
        skipped: 3,
        conflicts: 2,
        lastError: "network down",
      },
      now,
    );
    expect(lines).toEqual([
      "Workspace Sync as ada@example.com",
      "Syncing 2 files: 1.5 KB of 3.0 MB",
      "1 file with unsaved edits: newer versions wait until you save or close them",
      "3 items not synced (symbolic links, special or unreadable files)",
      "2 conflicted copies to resolve",
      "Last synced 2 minutes ago",
      "Last error: network down",
    ]);
  });

  it("asks a signed-out user to sign in", () => {
    expect(statusDetails({ ...synced, signedIn: false }, now)[0]).toContain("not signed in");
  });

  it("says when nothing has synced yet", () => {
    expect(statusDetails({ ...synced, lastSyncedAt: undefined }, now)).toContain("Not synced yet");
  });
});
