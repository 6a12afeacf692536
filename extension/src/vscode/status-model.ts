import { formatAge, formatBytes, plural } from "./format.ts";

/**
 * What the status bar shows, as plain data. The adapter (status-bar.ts) builds it from the engine's
 * status and the session; this module decides the words, so tests can pin them without VS Code.
 */
export interface StatusSnapshot {
  signedIn: boolean;
  /** The account's email, when known, for the tooltip. */
  account?: string | undefined;
  paused: boolean;
  /** False when the server cannot be reached; local changes wait. */
  online: boolean;
  /** A sync pass is running (scanning, transferring or applying). */
  syncing: boolean;
  /** Files being uploaded or downloaded right now, and their bytes. */
  transfer: { files: number; bytesDone: number; bytesTotal: number } | null;
  /** Downloads held because the file has unsaved edits in an editor. */
  held: number;
  /** Items not synced: symbolic links, special or unreadable files. */
  skipped: number;
  conflicts: number;
  /** The last pass failed in a way retrying has not fixed (yet). */
  failed: boolean;
  lastSyncedAt?: Date | undefined;
  lastError?: string | undefined;
}

export type StatusKind =
  | "signedOut"
  | "paused"
  | "offline"
  | "failed"
  | "waiting"
  | "syncing"
  | "conflicts"
  | "synced";

export interface StatusPresentation {
  kind: StatusKind;
  /** Status bar text, with codicons. */
  text: string;
  tooltip: string;
  /** Whether the item takes the warning colours. */
  warning: boolean;
}

/**
 * One state wins, in the order that matters to the user: not signed in, then paused (their own
 * choice), offline, failing, downloads waiting for the user (unsaved edits), a running pass, unresolved
 * conflicts, and otherwise synced.
 */
export function presentStatus(status: StatusSnapshot, now: Date): StatusPresentation {
  const details = statusDetails(status, now);
  const tooltip = details.join("\n");
  if (!status.signedIn) {
    return { kind: "signedOut", text: "$(cloud) Sign in to sync", tooltip, warning: false };
  }
  if (status.paused) {
    return { kind: "paused", text: "$(debug-pause) Sync paused", tooltip, warning: false };
  }
  if (!status.online) {
    return { kind: "offline", text: "$(cloud-offline) Offline", tooltip, warning: true };
  }
  if (status.failed) {
    return { kind: "failed", text: "$(error) Sync failed", tooltip, warning: true };
  }
  if (status.held > 0) {
    const text = `$(warning) ${plural(status.held, "file")} waiting`;
    return { kind: "waiting", text, tooltip, warning: true };
  }
  if (status.syncing || (status.transfer && status.transfer.files > 0)) {
    const conflicts = status.conflicts > 0 ? ` $(warning) ${status.conflicts}` : "";
    const files =
      status.transfer && status.transfer.files > 0 ? ` ${plural(status.transfer.files, "file")}` : "…";
    return { kind: "syncing", text: `$(sync~spin) Syncing${files}${conflicts}`, tooltip, warning: false };
  }
  if (status.conflicts > 0) {
    const text = `$(warning) ${plural(status.conflicts, "conflict")}`;
    return { kind: "conflicts", text, tooltip, warning: true };
  }
  return { kind: "synced", text: "$(check) Synced", tooltip, warning: false };
}

/** The lines of the tooltip and of the "Show Sync Status" details. */
export function statusDetails(status: StatusSnapshot, now: Date): string[] {
  if (!status.signedIn) return ["Workspace Sync: not signed in. Click to sign in or create an account."];
  const lines = [`Workspace Sync${status.account ? ` as ${status.account}` : ""}`];
  if (status.paused) lines.push("Paused: local changes are kept and sent when you resume.");
  if (!status.online) lines.push("Offline: the server cannot be reached; sync resumes when it can.");
  if (status.transfer && status.transfer.files > 0) {
    const { files, bytesDone, bytesTotal } = status.transfer;
    lines.push(`Syncing ${plural(files, "file")}: ${formatBytes(bytesDone)} of ${formatBytes(bytesTotal)}`);
  }
  if (status.held > 0) {
    lines.push(
      `${plural(status.held, "file")} with unsaved edits: newer versions wait until you save or close them`,
    );
  }
  if (status.skipped > 0) {
    lines.push(`${plural(status.skipped, "item")} not synced (symbolic links, special or unreadable files)`);
  }
  if (status.conflicts > 0) {
    lines.push(`${plural(status.conflicts, "conflicted copy", "conflicted copies")} to resolve`);
  }
  lines.push(status.lastSyncedAt ? `Last synced ${formatAge(status.lastSyncedAt, now)}` : "Not synced yet");
  if (status.lastError) lines.push(`Last error: ${status.lastError}`);
  return lines;
}
