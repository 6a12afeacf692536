import { formatAge } from "./format.ts";
import type { TreeItemModel } from "./tree-item-model.ts";

/**
 * A conflicted copy on disk: the bytes of an edit that lost a race (a stale commit got 409), kept next to
 * the original under a name that says so. "Mine" is the copy, "theirs" the original, which holds the
 * version that won.
 */
export interface Conflict {
  /** Workspace-relative path of the conflicted copy. */
  copyPath: string;
  /** Workspace-relative path of the file it conflicts with. */
  originalPath: string;
  /** The device whose edit the copy keeps, when the name says. */
  deviceName?: string | undefined;
  /** When the copy was made, when the name says (RFC 3339 or a date). */
  createdAt?: string | undefined;
}

/** Reads a file name as a conflicted copy's name (the engine's naming), or undefined. */
export type ConflictNameParser = (
  name: string,
) => { originalName: string; deviceName?: string | undefined; createdAt?: string | undefined } | undefined;

export const ConflictContext = { conflict: "wsync.conflict" } as const;

/** The conflicts among workspace paths; a copy whose original is also a copy still points at its original. */
export function findConflicts(paths: Iterable<string>, parse: ConflictNameParser): Conflict[] {
  const conflicts: Conflict[] = [];
  for (const path of paths) {
    const slash = path.lastIndexOf("/");
    const folder = slash >= 0 ? path.slice(0, slash + 1) : "";
    const parsed = parse(path.slice(slash + 1));
    if (!parsed) continue;
    conflicts.push({
      copyPath: path,
      originalPath: `${folder}${parsed.originalName}`,
      deviceName: parsed.deviceName,
      createdAt: parsed.createdAt,
    });
  }
  return conflicts.sort(
    (a, b) => a.originalPath.localeCompare(b.originalPath) || a.copyPath.localeCompare(b.copyPath),
  );
}

/** Copies present now that were not before: each gets one notification. */
export function newConflicts(before: readonly Conflict[], now: readonly Conflict[]): Conflict[] {
  const known = new Set(before.map((conflict) => conflict.copyPath));
  return now.filter((conflict) => !known.has(conflict.copyPath));
}

export function conflictItem(conflict: Conflict, now: Date): TreeItemModel {
  const name = conflict.originalPath.split("/").pop() ?? conflict.originalPath;
  const slash = conflict.originalPath.lastIndexOf("/");
  const folder = slash >= 0 ? conflict.originalPath.slice(0, slash) : "";
  const from = conflict.deviceName ? `from ${conflict.deviceName}` : "conflicted copy";
  const when = conflict.createdAt ? describeWhen(conflict.createdAt, now) : undefined;
  return {
    id: `conflict:${conflict.copyPath}`,
    label: name,
    description: [folder, from, when].filter(Boolean).join(" · "),
    tooltip: [
      `**${conflict.originalPath}** was changed on two devices at once.`,
      "",
      `The original holds the version that won ("theirs"); \`${conflict.copyPath.split("/").pop()}\` keeps the other edit ("mine").`,
      "",
      "Compare them, then keep one or merge by hand and choose I Merged It.",
    ].join("\n"),
    contextValue: ConflictContext.conflict,
    icon: "git-merge",
    collapsible: "none",
    command: { command: "wsync.conflicts.compare", title: "Compare" },
    resourcePath: conflict.originalPath,
  };
}

/** A copy's name gives only its day (UTC): say "today", "yesterday" or the day, not a made-up hour. */
function describeWhen(createdAt: string, now: Date): string | undefined {
  if (Number.isNaN(Date.parse(createdAt))) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(createdAt)) return formatAge(new Date(createdAt), now);
  const days = Math.round((Date.parse(now.toISOString().slice(0, 10)) - Date.parse(createdAt)) / 86_400_000);
  if (days === 0) return "today";
  if (days === 1) return "yesterday";
  return createdAt;
}

/** The notification when a conflicted copy appears. */
export function conflictNotice(conflict: Conflict): string {
  const copy = conflict.copyPath.split("/").pop();
  const from = conflict.deviceName ? `The edit from ${conflict.deviceName}` : "The other edit";
  return `${conflict.originalPath} was changed on two devices at once. ${from} is kept as "${copy}".`;
}

export function conflictDiffTitle(conflict: Conflict): string {
  const name = conflict.originalPath.split("/").pop();
  return `${name}: theirs (original) ↔ mine (conflicted copy)`;
}

export type Resolution = "keepMine" | "keepTheirs" | "merged";

/** One file operation of a resolution, applied in order through the workspace file system. */
export type ResolutionStep =
  | { op: "copy"; from: string; to: string }
  | { op: "delete"; path: string }
  | { op: "save"; path: string };

/**
 * What each action does to the files; the engine then syncs the result like any edit, so the other
 * devices see the same outcome. The copy goes to the trash, not oblivion, and its versions stay in
 * File History.
 */
export function resolutionSteps(resolution: Resolution, conflict: Conflict): ResolutionStep[] {
  switch (resolution) {
    case "keepMine":
      return [
        { op: "copy", from: conflict.copyPath, to: conflict.originalPath },
        { op: "delete", path: conflict.copyPath },
      ];
    case "keepTheirs":
      return [{ op: "delete", path: conflict.copyPath }];
    case "merged":
      // The user merged into the original in the editor: keep what they typed, even unsaved.
      return [
        { op: "save", path: conflict.originalPath },
        { op: "delete", path: conflict.copyPath },
      ];
  }
}
