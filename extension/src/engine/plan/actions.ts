import type { RemoteEntry } from "../model/types.ts";
import type { LocalEntry } from "../scan/scanner.ts";

/** Where a created or moved item goes on the server: a known folder (null: the root) or one created in the same round. */
export type ParentRef = { fileId: string | null } | { newPath: string };

/**
 * One step towards agreement. The planner emits at most one per item per round; the executor checks
 * each one's preconditions again (the disk and the server move on) and the next round plans afresh.
 */
export type Action =
  /** A folder that is new here: create it on the server. */
  | { type: "createFolder"; path: string; parent: ParentRef; name: string }
  /** A file that is new here: upload what the server lacks, then create it. */
  | { type: "createFile"; path: string; parent: ParentRef; name: string; local: LocalEntry }
  | PushAction
  /**
   * Local moves that wait on each other in a ring on the server (a file and a folder trading names,
   * which the path matching cannot send as edits): each member's new name is held there by the next
   * member, the last one's by the first. Applied as one step, every move recorded as it succeeds:
   * the first member goes to `parkName` in its server folder (a name nobody ignores, so any device
   * just sees a rename), the others follow last to first (each target freed by the one before), then
   * the first one to its place. Stopped half way, the next plan finds ordinary moves.
   */
  | { type: "pushMoveCycle"; pushes: PushAction[]; parkName: string }
  /**
   * Deleted here, not edited or moved there: delete on the server (a folder with what is under it).
   * `version` is the server's version the plan saw; the delete is sent as the one after it.
   */
  | { type: "deleteRemote"; fileId: string; path: string; isFolder: boolean; version: number }
  | PullAction
  /**
   * Pulls that move items onto each other's places (a swap of names, a rotation, a swap of folders),
   * so none can go first: applied as one step. The first member is parked under a temporary name the
   * scanner ignores, the others follow last to first (each target freed by the one before), then the
   * parked one. Each member's target is the next member's source; the last one's, the first's.
   */
  | { type: "moveCycle"; pulls: PullAction[] }
  /** Deleted there, unchanged here: delete locally. `expected` is every entry under it, as scanned. */
  | { type: "deleteLocal"; fileId: string; path: string; expected: LocalEntry[] }
  /**
   * Keep the local bytes under a conflicted-copy name next to them. With `fileId`, the local item
   * stops standing for that server file, so the server's version comes back at `path` next round.
   */
  | { type: "conflictCopy"; path: string; copyPath: string; fileId: string | null; local: LocalEntry }
  /** The server deleted it but it changed here: stop linking it, so it is created again (edit wins). */
  | { type: "forget"; fileId: string; path: string }
  /**
   * Record that the local item stands for this server state (same content already, or only stats
   * moved): no transfer. `local` null keeps the local half unknown, forcing a re-read.
   */
  | { type: "adopt"; fileId: string; path: string; remote: RemoteEntry; local: LocalEntry };

/** Send a local edit (a commit) and/or a local rename or move (a PATCH: no bytes). */
export interface PushAction {
  type: "push";
  fileId: string;
  path: string;
  local: LocalEntry;
  content: boolean;
  move: { parent: ParentRef; name: string } | null;
}

/**
 * Bring the server's state here: download the content (when `content`) and/or move the local item
 * to `to`. `from` is the local item now (null when there is none); it must be unchanged since the scan.
 */
export interface PullAction {
  type: "pull";
  fileId: string;
  remote: RemoteEntry;
  from: LocalEntry | null;
  to: string;
  content: boolean;
}

/** Something the planner will not touch this round, and why (for status and the user). */
export interface Deferred {
  path: string;
  reason: string;
}

export interface Plan {
  actions: Action[];
  deferred: Deferred[];
}
