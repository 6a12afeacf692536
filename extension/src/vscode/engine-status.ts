import type { EngineStatus } from "../engine/index.ts";
import { HELD_UNSAVED_EDITS } from "./guarded-fs.ts";
import type { TransferProgress } from "./progress-model.ts";
import type { StatusSnapshot } from "./status-model.ts";

export interface StatusInputs {
  /** The signed-in account's email; undefined when signed out. */
  account: string | undefined;
  /** The engine's status; undefined when no engine runs (no folder open, or just signed in). */
  engine: EngineStatus | undefined;
  pausedSetting: boolean;
  transfer: { active: number; progress: TransferProgress };
  held: number;
  conflicts: number;
}

/** The status bar's facts from the engine's status and the extension's own (session, conflicts, held files). */
export function snapshotFromEngine(inputs: StatusInputs): StatusSnapshot {
  const { engine } = inputs;
  const state = engine?.state;
  const { active, progress } = inputs.transfer;
  return {
    // A revoked token ends the session even before the user signs out.
    signedIn: inputs.account !== undefined && state !== "unauthorized",
    account: inputs.account,
    paused: inputs.pausedSetting || state === "paused",
    online: state !== "offline",
    syncing: state === "syncing",
    transfer:
      active > 0 ? { files: active, bytesDone: progress.bytesDone, bytesTotal: progress.bytesTotal } : null,
    held: inputs.held,
    skipped: engine?.skipped.length ?? 0,
    conflicts: inputs.conflicts,
    // A download held over unsaved edits fails its round on purpose: that is "waiting", not "failed".
    failed: state === "error" && !(inputs.held > 0 && engine?.lastError?.code === HELD_UNSAVED_EDITS),
    lastSyncedAt: engine?.lastSyncAt ? new Date(engine.lastSyncAt) : undefined,
    lastError: engine?.lastError?.message,
  };
}
