import { baseName, joinPath, parentPath } from "../fs/types.ts";
import { localExecutableChanged, remoteExecutableChanged, sameExecutable } from "../model/executable.ts";
import { type RemoteEntry, type SyncedEntry, sameChunks } from "../model/types.ts";
import type { LocalEntry } from "../scan/scanner.ts";
import type { Action, Deferred, ParentRef, Plan, PullAction } from "./actions.ts";
import { conflictedCopyName } from "./conflict-name.ts";
import { type LocalItem, matchLocal } from "./local-view.ts";
import { planMoveCycles } from "./move-cycles.ts";
import { parkedByRing, planPushCycles } from "./push-cycles.ts";
import { buildRemoteView, type RemoteView } from "./remote-view.ts";

export interface PlanInput {
  /** The folder as scanned: path to entry. */
  local: ReadonlyMap<string, LocalEntry>;
  /** What was last synced: fileId to entry (the base). */
  synced: ReadonlyMap<string, SyncedEntry>;
  /** The server's tree as the changes feed told it: fileId to entry. */
  remote: ReadonlyMap<string, RemoteEntry>;
  isIgnored: (path: string, isFolder: boolean) => boolean;
  deviceName: string;
  now: Date;
}

const hashes = (entry: LocalEntry) => entry.chunks.map((chunk) => chunk.hash);

/**
 * The three-way comparison: for each item, what changed here (local against synced) and there (remote
 * against synced), and the one step to take this round. A pure function: the same states give the
 * same plan. Rules, Dropbox's where the issue is silent:
 * - changed on one side only: that side's change is applied to the other;
 * - content changed on both sides, differently: the local bytes become a conflicted copy;
 * - edit against delete: the edit wins; so does a rename or move against a delete, on either side
 *   (the other device acted on the item after this one last saw it): a file renamed there and
 *   deleted here comes back under its new name, a folder with all it holds; a folder deleted there
 *   that something was moved into here comes back with it;
 * - moved on both sides: the server's place wins;
 * - moves that together would put a folder inside itself (one made there, one here): the server's wins;
 * - created at the same path on both sides: the same content is linked, else ours is the copy.
 */
/** A plan, and the server's items it leaves alone because they are not ours to write (and why). */
export interface SyncPlan extends Plan {
  problems: RemoteView["problems"];
}

export function planSync(input: PlanInput): SyncPlan {
  const { local, synced, remote, isIgnored } = input;
  const remoteView = buildRemoteView(remote, isIgnored);
  const localView = matchLocal(local, synced, isIgnored);
  const actions: Action[] = [];
  const deferred: Deferred[] = [];
  const handledLocal = new Set<string>();
  /** Local folders created on the server this round: children may name them as parents. */
  const creating = new Set<string>();
  const localChildren = new Map<string, LocalItem[]>();
  for (const item of localView.byPath.values()) {
    const folder = parentPath(item.entry.path);
    const siblings = localChildren.get(folder);
    if (siblings) siblings.push(item);
    else localChildren.set(folder, [item]);
  }

  const base = (fileId: string) => synced.get(fileId) as SyncedEntry;
  // Content is the bytes and the executable bit (a chmod alone is a commit of the same chunks).
  const localContentChanged = (b: SyncedEntry, l: LocalItem) =>
    !b.isFolder && (!sameChunks(hashes(l.entry), b.chunks) || localExecutableChanged(b, l.entry.mode));
  const localMoved = (b: SyncedEntry, l: LocalItem) =>
    l.name !== b.name || !("fileId" in l.parent) || l.parent.fileId !== b.parentId;
  const remoteContentChanged = (b: SyncedEntry, r: RemoteEntry) =>
    !b.isFolder && (!sameChunks(r.chunks, b.chunks) || remoteExecutableChanged(b, r));
  const remoteMoved = (b: SyncedEntry, r: RemoteEntry) => r.parentId !== b.parentId || r.name !== b.name;
  // A folder's stats move with every change inside it and mean nothing for sync.
  const statChanged = (b: SyncedEntry, l: LocalItem) =>
    !b.isFolder &&
    (b.size !== l.entry.size ||
      b.mtimeMs !== l.entry.mtimeMs ||
      b.inode !== l.entry.inode ||
      b.mode !== l.entry.mode);

  /**
   * An item's parent once this round's moves hold: its local parent when it moved here only (the
   * server's version is still the synced one), else the server's.
   */
  const intendedParent = (fileId: string): string | null | undefined => {
    const r = remoteView.entry(fileId);
    const b = synced.get(fileId);
    const l = localView.byFileId.get(fileId);
    if (r && b && l && r.version === b.version && "fileId" in l.parent && localMoved(b, l))
      return l.parent.fileId;
    return r?.parentId;
  };
  /** Whether putting `fileId` into folder `parentId` would put it inside itself, once the other moves hold. */
  const movesIntoItself = (fileId: string, parentId: string): boolean => {
    let current: string | null | undefined = parentId;
    for (let depth = 0; current !== null && current !== undefined && depth <= synced.size; depth++) {
      if (current === fileId) return true;
      current = intendedParent(current);
    }
    return false;
  };

  // Deleted here while unchanged there (including everything under a folder): delete on the server.
  const remoteUnchangedMemo = new Map<string, boolean>();
  const remoteSubtreeUnchanged = (fileId: string): boolean => {
    const memo = remoteUnchangedMemo.get(fileId);
    if (memo !== undefined) return memo;
    const result = remoteView.children(fileId).every((child) => {
      const known = synced.get(child.fileId);
      return known !== undefined && known.version === child.version && remoteSubtreeUnchanged(child.fileId);
    });
    remoteUnchangedMemo.set(fileId, result);
    return result;
  };

  // Deleted there: a local folder goes only if nothing under it is new or changed here.
  const deletableMemo = new Map<string, boolean>();
  const deletableLocally = (item: LocalItem): boolean => {
    const memo = deletableMemo.get(item.entry.path);
    if (memo !== undefined) return memo;
    let result = false;
    if (item.fileId !== null) {
      const status = remoteView.status(item.fileId);
      const b = base(item.fileId);
      if (status === "live")
        // Moved out on the server: it leaves before the folder goes. Moved in here only (the server
        // still has it where it was): a move into a folder deleted there wins, the folder stays.
        result = remoteMoved(b, remoteView.entry(item.fileId) as RemoteEntry);
      else if (status === "gone" && !localMoved(b, item)) {
        result = b.isFolder
          ? (localChildren.get(item.entry.path) ?? []).every(deletableLocally)
          : !localContentChanged(b, item);
      }
    }
    deletableMemo.set(item.entry.path, result);
    return result;
  };

  /**
   * Deleted here, but moved there since the last sync (itself, or a folder above it that is also
   * deleted here): it comes back where the server has it instead of being deleted.
   */
  const movedThereMemo = new Map<string, boolean>();
  const keptByMoveThere = (fileId: string): boolean => {
    const memo = movedThereMemo.get(fileId);
    if (memo !== undefined) return memo;
    movedThereMemo.set(fileId, false); // a guard against a cycle in a malformed tree
    const b = synced.get(fileId);
    const r = remoteView.entry(fileId);
    const result =
      b !== undefined &&
      r !== undefined &&
      remoteView.status(fileId) === "live" &&
      !localView.byFileId.has(fileId) &&
      (remoteMoved(b, r) || (r.parentId !== null && keptByMoveThere(r.parentId)));
    movedThereMemo.set(fileId, result);
    return result;
  };

  const remoteDeletes = new Map<
    string,
    { path: string; isFolder: boolean; parentId: string | null; version: number }
  >();
  const localDeleteRoots = new Set<string>();
  const forgotten = new Set<string>();
  const pullRequests: Array<{ fileId: string; from: LocalItem | null; content: boolean; move: boolean }> = [];

  for (const [fileId, syncedPath] of localView.syncedPath) {
    const b = base(fileId);
    const l = localView.byFileId.get(fileId);
    const status = remoteView.status(fileId);
    const r = remoteView.entry(fileId);
    if (status === "out") continue;
    if (!l) {
      if (status === "gone") {
        actions.push({ type: "forget", fileId, path: syncedPath });
        forgotten.add(fileId);
      } else if (!b.isFolder && remoteContentChanged(b, r as RemoteEntry)) {
        pullRequests.push({ fileId, from: null, content: true, move: true }); // edit wins over delete
      } else if (b.isFolder && !remoteSubtreeUnchanged(fileId)) {
        pullRequests.push({ fileId, from: null, content: false, move: true }); // something new in it
      } else if (keptByMoveThere(fileId)) {
        pullRequests.push({ fileId, from: null, content: !b.isFolder, move: true }); // rename wins too
      } else {
        // At the version the server is known to hold (a change there that is neither an edit nor a
        // move, e.g. a restore of the same bytes, loses to the delete): never the synced one, which
        // the server would refuse again on every round.
        const version = (r as RemoteEntry).version;
        remoteDeletes.set(fileId, { path: syncedPath, isFolder: b.isFolder, parentId: b.parentId, version });
      }
      continue;
    }
    if (status === "gone") {
      if (l.entry.kind === "folder" ? deletableLocally(l) : !localContentChanged(b, l) && !localMoved(b, l)) {
        localDeleteRoots.add(l.entry.path);
      } else {
        actions.push({ type: "forget", fileId, path: l.entry.path });
        forgotten.add(fileId);
      }
      continue;
    }
    const rEntry = r as RemoteEntry;
    if (rEntry.version === b.version) {
      const content = localContentChanged(b, l);
      const moved = localMoved(b, l);
      if (content || moved) {
        const parent = moved ? parentRefOf(l) : null;
        if (moved && parent === null) {
          deferred.push({ path: l.entry.path, reason: "its new folder is not on the server yet" });
          continue;
        }
        if (
          parent &&
          "fileId" in parent &&
          parent.fileId !== null &&
          movesIntoItself(fileId, parent.fileId)
        ) {
          // Another client moved the new parent into this item meanwhile (A into B there, B into A
          // here): both cannot hold. The server's move came first and wins, as when both sides move one
          // item; this one goes back to where the server has it, with all it holds, so nothing is lost.
          // An edit of it is sent first; the move back follows next round.
          if (content)
            actions.push({ type: "push", fileId, path: l.entry.path, local: l.entry, content, move: null });
          else pullRequests.push({ fileId, from: l, content: false, move: true });
          continue;
        }
        actions.push({
          type: "push",
          fileId,
          path: l.entry.path,
          local: l.entry,
          content,
          move: parent ? { parent, name: l.name } : null,
        });
      } else if (statChanged(b, l)) {
        actions.push({ type: "adopt", fileId, path: l.entry.path, remote: rEntry, local: l.entry });
      }
      continue;
    }
    if (parkedByRing(b, rEntry) && localMoved(b, l) && !localContentChanged(b, l)) {
      // Our own ring of moves parked it and stopped before recording that: record it where the
      // server has it, so the next round sends the local move instead of taking the parking name.
      actions.push({ type: "adopt", fileId, path: l.entry.path, remote: rEntry, local: l.entry });
      continue;
    }
    const lContent = localContentChanged(b, l);
    const rContent = remoteContentChanged(b, rEntry);
    if (
      lContent &&
      rContent &&
      (!sameChunks(hashes(l.entry), rEntry.chunks) || !sameExecutable(l.entry.mode, rEntry))
    ) {
      actions.push(conflictCopy(l, fileId));
      continue;
    }
    const needContent = rContent && !lContent;
    const needMove = remoteMoved(b, rEntry);
    if (needContent || needMove) pullRequests.push({ fileId, from: l, content: needContent, move: needMove });
    else actions.push({ type: "adopt", fileId, path: l.entry.path, remote: rEntry, local: l.entry });
  }

  // Only the top of a deleted subtree is sent: the server deletes what is under a folder.
  for (const [fileId, item] of remoteDeletes) {
    if (item.parentId !== null && remoteDeletes.has(item.parentId)) continue;
    actions.push({
      type: "deleteRemote",
      fileId,
      path: item.path,
      isFolder: item.isFolder,
      version: item.version,
    });
  }
  for (const path of localDeleteRoots) {
    if ([...ancestorsOf(path)].some((folder) => localDeleteRoots.has(folder))) continue;
    const item = localView.byPath.get(path) as LocalItem;
    const expected = subtree(item).filter((entry) => {
      const id = localView.byPath.get(entry.path)?.fileId;
      return !(id && remoteView.status(id) === "live");
    });
    actions.push({ type: "deleteLocal", fileId: item.fileId as string, path, expected });
  }

  // Remote items new here, plus base items to bring over, parents before children.
  for (const [fileId, entry] of remote) {
    if (!synced.has(fileId) && remoteView.status(fileId) === "live") {
      pullRequests.push({ fileId, from: null, content: !entry.isFolder, move: true });
    }
  }
  const planned = new Map<string, string>();
  const targeted = new Set<string>();
  /** Pulls whose target another tracked item holds: the pull, and that item's fileId. */
  const blocked = new Map<string, { pull: PullAction; by: string }>();
  const depth = (fileId: string) => (remoteView.path(fileId) ?? "").split("/").length;
  pullRequests.sort((a, b) => depth(a.fileId) - depth(b.fileId));
  for (const request of pullRequests) planPull(request);

  // Local items new here, parents before children.
  const fresh = [...localView.byPath.values()]
    .filter((item) => item.fileId === null && !handledLocal.has(item.entry.path))
    .sort((a, b) => a.entry.path.split("/").length - b.entry.path.split("/").length);
  for (const item of fresh) {
    if ([...ancestorsOf(item.entry.path)].some((folder) => handledLocal.has(folder))) continue;
    const parent = parentRefOf(item);
    if (parent === null) {
      deferred.push({ path: item.entry.path, reason: "its folder is not on the server yet" });
      continue;
    }
    const path = item.entry.path;
    if (item.entry.kind === "folder") {
      creating.add(path);
      actions.push({ type: "createFolder", path, parent, name: item.name });
    } else {
      actions.push({ type: "createFile", path, parent, name: item.name, local: item.entry });
    }
  }

  // Local moves onto names the server still gives other moving items: rings become one step.
  const pushRings = planPushCycles(actions, { remoteView, localPaths: local, isIgnored });
  // Pulls blocked by each other in a ring become one step; the rest wait for a later round.
  const rings = planMoveCycles(blocked, pushRings.actions);
  return {
    actions: rings.actions,
    deferred: [...deferred, ...pushRings.deferred, ...rings.deferred],
    problems: remoteView.problems,
  };

  function parentRefOf(item: LocalItem): ParentRef | null {
    if ("newPath" in item.parent) {
      return creating.has(item.parent.newPath) ? { newPath: item.parent.newPath } : null;
    }
    const parentId = item.parent.fileId;
    if (parentId === null) return { fileId: null };
    return remoteView.status(parentId) === "live" && !forgotten.has(parentId) ? { fileId: parentId } : null;
  }

  function localPathOfFolder(folderId: string | null): string | undefined {
    if (folderId === null) return "";
    const target = planned.get(folderId);
    if (target !== undefined) return target;
    const item = localView.byFileId.get(folderId);
    return item && item.entry.kind === "folder" ? item.entry.path : undefined;
  }

  function planPull(request: {
    fileId: string;
    from: LocalItem | null;
    content: boolean;
    move: boolean;
  }): void {
    const r = remoteView.entry(request.fileId) as RemoteEntry;
    const from = request.from;
    let to: string;
    if (request.move || !from) {
      const folder = localPathOfFolder(r.parentId);
      if (folder === undefined) {
        deferred.push({
          path: remoteView.path(request.fileId) ?? r.name,
          reason: "its folder is not here yet",
        });
        return;
      }
      to = joinPath(folder, r.name);
    } else {
      to = from.entry.path;
    }
    if (from && to === from.entry.path && !request.content) {
      // Already where the server has it (the same move on both sides): only record it.
      planned.set(request.fileId, to);
      actions.push({ type: "adopt", fileId: request.fileId, path: to, remote: r, local: from.entry });
      return;
    }
    if (targeted.has(to)) {
      deferred.push({ path: to, reason: "another item is coming to this path" });
      return;
    }
    const occupant = to === from?.entry.path ? undefined : localView.byPath.get(to);
    const pull: PullAction = {
      type: "pull",
      fileId: request.fileId,
      remote: r,
      from: from?.entry ?? null,
      to,
      content: request.content,
    };
    if (occupant && occupant.fileId === null && !handledLocal.has(to)) {
      const isNewThere = !synced.has(request.fileId);
      const sameKind = occupant.entry.kind === (r.isFolder ? "folder" : "file");
      if (isNewThere && sameKind && (r.isFolder || sameChunks(hashes(occupant.entry), r.chunks))) {
        // Created on both sides with the same content: link them, transfer nothing.
        actions.push({ type: "adopt", fileId: request.fileId, path: to, remote: r, local: occupant.entry });
        handledLocal.add(to);
        planned.set(request.fileId, to);
        targeted.add(to);
        if (r.isFolder) markFolderAdopted(to, request.fileId);
        return;
      }
      // Created on both sides (or moved onto a new file here): the server was first, ours is the copy.
      actions.push(conflictCopy(occupant, null));
      handledLocal.add(to);
    } else if (occupant && occupant.fileId !== request.fileId) {
      // Held by a tracked item: it may be moving away this round, or waiting on this one (a swap).
      if (occupant.fileId !== null && from) blocked.set(request.fileId, { pull, by: occupant.fileId });
      else deferred.push({ path: to, reason: "the path is still taken by another item" });
      return;
    }
    targeted.add(to);
    planned.set(request.fileId, to);
    actions.push(pull);
  }

  /** A folder linked to its server twin: what is new inside it now has a parent on the server. */
  function markFolderAdopted(path: string, fileId: string): void {
    for (const child of localChildren.get(path) ?? []) {
      if ("newPath" in child.parent && child.parent.newPath === path) child.parent = { fileId };
    }
  }

  function conflictCopy(item: LocalItem, fileId: string | null): Action {
    const folder = parentPath(item.entry.path);
    const copyName = conflictedCopyName(baseName(item.entry.path), input.deviceName, input.now, (name) => {
      const path = joinPath(folder, name);
      return local.has(path) || remoteView.atPath(path) !== undefined;
    });
    handledLocal.add(item.entry.path);
    return {
      type: "conflictCopy",
      path: item.entry.path,
      copyPath: joinPath(folder, copyName),
      fileId,
      local: item.entry,
    };
  }

  function subtree(item: LocalItem): LocalEntry[] {
    const children = (localChildren.get(item.entry.path) ?? []).flatMap(subtree);
    return [...children, item.entry];
  }
}

function* ancestorsOf(path: string): Generator<string> {
  for (let folder = parentPath(path); folder !== ""; folder = parentPath(folder)) yield folder;
}
