import { fileNameProblem, limits } from "@wsync/shared-protocol";
import { joinPath } from "../fs/types.ts";
import type { RemoteEntry } from "../model/types.ts";

/**
 * live: on the server and ours to mirror. gone: deleted, itself or through a folder above it.
 * out: not ours to touch here (an ignored path, a name that is not a valid path segment, a parent
 * cycle or a tree too deep): never written, never deleted.
 */
export type RemoteStatus = "live" | "gone" | "out";

export interface RemoteView {
  status(fileId: string): RemoteStatus;
  /** The path of a live item, as the server's tree places it. */
  path(fileId: string): string | undefined;
  entry(fileId: string): RemoteEntry | undefined;
  /** The live item at a path, if any. */
  atPath(path: string): RemoteEntry | undefined;
  /** Live items directly in a folder (null: the root). */
  children(fileId: string | null): readonly RemoteEntry[];
  /** Why items are out, for the user (a server sending names we refuse to write). */
  problems: Array<{ fileId: string; reason: string }>;
}

export function buildRemoteView(
  remote: ReadonlyMap<string, RemoteEntry>,
  isIgnored: (path: string, isFolder: boolean) => boolean,
): RemoteView {
  const resolved = new Map<string, { status: RemoteStatus; path?: string; depth: number }>();
  const problems: RemoteView["problems"] = [];

  const resolve = (
    fileId: string,
    visiting: Set<string>,
  ): { status: RemoteStatus; path?: string; depth: number } => {
    const known = resolved.get(fileId);
    if (known) return known;
    const entry = remote.get(fileId);
    let result: { status: RemoteStatus; path?: string; depth: number };
    if (!entry || entry.deleted) {
      result = { status: "gone", depth: 0 };
    } else if (visiting.has(fileId)) {
      problems.push({ fileId, reason: "its folders form a cycle" });
      result = { status: "out", depth: 0 };
    } else {
      visiting.add(fileId);
      const parent =
        entry.parentId === null
          ? { status: "live" as const, path: "", depth: 0 }
          : resolve(entry.parentId, visiting);
      const problem = fileNameProblem(entry.name);
      if (parent.status !== "live") {
        result = { status: parent.status, depth: 0 };
      } else if (parent.path !== "" && remote.get(entry.parentId as string)?.isFolder === false) {
        problems.push({ fileId, reason: "its parent is a file" });
        result = { status: "out", depth: 0 };
      } else if (problem) {
        problems.push({ fileId, reason: `its name ${problem}` });
        result = { status: "out", depth: 0 };
      } else if (parent.depth + 1 > limits.folderDepthMax + 1) {
        problems.push({ fileId, reason: "it is nested too deep" });
        result = { status: "out", depth: 0 };
      } else {
        const path = joinPath(parent.path as string, entry.name);
        result = isIgnored(path, entry.isFolder)
          ? { status: "out", depth: 0 }
          : { status: "live", path, depth: parent.depth + 1 };
      }
    }
    resolved.set(fileId, result);
    return result;
  };

  const byPath = new Map<string, RemoteEntry>();
  const children = new Map<string | null, RemoteEntry[]>();
  for (const [fileId, entry] of remote) {
    const result = resolve(fileId, new Set());
    if (result.status !== "live") continue;
    byPath.set(result.path as string, entry);
    const siblings = children.get(entry.parentId) ?? [];
    siblings.push(entry);
    children.set(entry.parentId, siblings);
  }

  return {
    status: (fileId) => resolve(fileId, new Set()).status,
    path: (fileId) => resolve(fileId, new Set()).path,
    entry: (fileId) => remote.get(fileId),
    atPath: (path) => byPath.get(path),
    children: (fileId) => children.get(fileId) ?? [],
    problems,
  };
}
