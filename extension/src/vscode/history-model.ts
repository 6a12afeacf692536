import type { FileVersion } from "@wsync/shared-protocol";
import type { DeletedFile } from "../engine/index.ts";
import { formatAge, formatBytes, plural } from "./format.ts";
import type { TreeItemModel } from "./tree-item-model.ts";
import type { VersionRef } from "./version-uri.ts";

/** `viewItem` values of the File History view; package.json's menus match on them. */
export const HistoryContext = {
  version: "wsync.version",
  currentVersion: "wsync.currentVersion",
  deletionMarker: "wsync.deletionMarker",
  deletedGroup: "wsync.deletedGroup",
  deletedFile: "wsync.deletedFile",
  deletedVersion: "wsync.deletedVersion",
} as const;

const ACTION_ICON: Record<FileVersion["action"], string> = {
  created: "add",
  modified: "edit",
  moved: "arrow-right",
  deleted: "trash",
};

/** A file that was deleted and can be brought back from one of its earlier versions (the engine's). */
export type { DeletedFile };

export interface VersionItem {
  item: TreeItemModel;
  /** Absent for a deletion marker, which has no content to open. */
  ref?: VersionRef;
  /** The version to restore from. */
  version: FileVersion;
}

/**
 * The versions of one file, newest first as the API lists them. The newest is the current content
 * (unless the file is deleted); the others can be compared with it and restored.
 */
export function versionItems(
  fileId: string,
  path: string,
  versions: readonly FileVersion[],
  now: Date,
  options: { deleted?: boolean } = {},
): VersionItem[] {
  return versions.map((version, index) => {
    const isCurrent = index === 0 && !options.deleted && version.action !== "deleted";
    const hasContent = version.action !== "deleted";
    const contextValue = !hasContent
      ? HistoryContext.deletionMarker
      : options.deleted
        ? HistoryContext.deletedVersion
        : isCurrent
          ? HistoryContext.currentVersion
          : HistoryContext.version;
    const by = version.deviceName ?? "an unknown device";
    const descriptionParts = [`v${version.version}`, version.action, by];
    if (hasContent) descriptionParts.push(formatBytes(version.size));
    if (isCurrent) descriptionParts.push("current");
    const item: TreeItemModel = {
      id: `${options.deleted ? "deleted" : "history"}:${fileId}:${version.version}`,
      label: formatAge(new Date(version.createdAt), now),
      description: descriptionParts.join(" · "),
      tooltip: versionTooltip(version, path, isCurrent),
      contextValue,
      icon: ACTION_ICON[version.action],
      collapsible: "none",
    };
    if (hasContent && !options.deleted && !isCurrent) {
      item.command = { command: "wsync.history.compare", title: "Compare with Current" };
    } else if (hasContent) {
      item.command = { command: "wsync.history.open", title: "Open Version" };
    }
    const versionPath = pathAtVersion(path, version);
    return hasContent
      ? { item, version, ref: { fileId, version: version.version, path: versionPath } }
      : { item, version };
  });
}

/** A version renamed since then opens under its old name, so the editor title says what it was. */
function pathAtVersion(currentPath: string, version: FileVersion): string {
  const slash = currentPath.lastIndexOf("/");
  const folder = slash >= 0 ? currentPath.slice(0, slash + 1) : "";
  const currentName = currentPath.slice(slash + 1);
  return version.name && version.name !== currentName ? `${folder}${version.name}` : currentPath;
}

function versionTooltip(version: FileVersion, path: string, isCurrent: boolean): string {
  const lines = [
    `**Version ${version.version}** · ${version.action}${isCurrent ? " (current)" : ""}`,
    "",
    `${version.createdAt.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC")}`,
    "",
    `by ${version.deviceName ?? "an unknown device"}`,
  ];
  if (version.action !== "deleted") lines.push("", formatBytes(version.size));
  const name = path.split("/").pop();
  if (version.name && version.name !== name) lines.push("", `named \`${version.name}\` then`);
  return lines.join("\n");
}

/** The "Recently deleted" group at the bottom of the view. */
export function deletedGroupItem(count: number): TreeItemModel {
  return {
    id: "deleted-group",
    label: "Recently deleted",
    description: plural(count, "file"),
    tooltip: "Files deleted from this folder on any of your devices. Expand one to restore a version.",
    contextValue: HistoryContext.deletedGroup,
    icon: "trash",
    collapsible: "collapsed",
  };
}

/** Newest deletion first. */
export function sortDeleted(files: readonly DeletedFile[]): DeletedFile[] {
  return [...files].sort((a, b) => b.deletedAt.localeCompare(a.deletedAt) || a.path.localeCompare(b.path));
}

export function deletedFileItems(files: readonly DeletedFile[], now: Date): TreeItemModel[] {
  return sortDeleted(files).map((file) => ({
    id: `deleted-file:${file.fileId}`,
    label: file.path.split("/").pop() ?? file.path,
    description: `${folderOf(file.path)}deleted ${formatAge(new Date(file.deletedAt), now)}`,
    tooltip: `**${file.path}**\n\ndeleted ${file.deletedAt.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC")}`,
    contextValue: HistoryContext.deletedFile,
    icon: "file",
    collapsible: "collapsed",
    resourcePath: file.path,
  }));
}

function folderOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash >= 0 ? `${path.slice(0, slash)} · ` : "";
}

/**
 * The version to bring a deleted file back from: the newest one with content (the deletion itself
 * has none).
 */
export function latestRestorableVersion(versions: readonly FileVersion[]): FileVersion | undefined {
  return versions.find((version) => version.action !== "deleted");
}
