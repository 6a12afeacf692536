import { createHash } from "node:crypto";
import { fileNameProblem } from "@wsync/shared-protocol";
import { joinPath } from "../fs/types.ts";
import { remoteExecutableChanged } from "../model/executable.ts";
import { type RemoteEntry, type SyncedEntry, sameChunks } from "../model/types.ts";
import type { Action, Deferred, ParentRef, Plan, PushAction } from "./actions.ts";
import { findMoveCycles } from "./move-cycles.ts";
import type { RemoteView } from "./remote-view.ts";

export interface PushCycleInput {
  remoteView: RemoteView;
  /** Local paths as scanned: a parking name must not be one of them either. */
  localPaths: ReadonlySet<string> | ReadonlyMap<string, unknown>;
  isIgnored: (path: string, isFolder: boolean) => boolean;
}

type MovingPush = PushAction & { move: NonNullable<PushAction["move"]> };

/**
 * Local moves (pushes) whose new name the server still gives another item that is itself moving
 * this round. In a ring (a file and a folder trading names; a rotation the path matching could not
 * send as edits) none can go first: the ring becomes one `pushMoveCycle` step. In a chain (the
 * holder moves elsewhere) the waiting move waits a round, and its edit, if any, goes now: sent
 * together, the server would refuse whichever came first and it would end as a conflicted copy.
 * So does a move onto the name of an item deleted here (the delete goes after the moves), and a
 * create onto a name whose holder moves later (a folder is created before the moves go: it waits
 * for any holder that moves). Moves onto a name held by an item that stays are left alone (the
 * server's refusal makes ours the copy).
 */
export function planPushCycles(actions: readonly Action[], input: PushCycleInput): Plan {
  const moving = new Map<string, MovingPush>();
  const deleting = new Set<string>();
  for (const action of actions) {
    if (action.type === "push" && action.move) moving.set(action.fileId, action as MovingPush);
    if (action.type === "deleteRemote") deleting.add(action.fileId);
  }
  if (moving.size === 0) return { actions: [...actions], deferred: [] };
  // Names by folder, built for the folders asked about (a create in a big folder is one look-up).
  const namesIn = new Map<string | null, Map<string, string>>();
  const holderOf = (parent: ParentRef, name: string, self?: string): string | undefined => {
    if (!("fileId" in parent)) return undefined; // a folder new this round holds nothing yet
    let names = namesIn.get(parent.fileId);
    if (!names) {
      names = new Map(input.remoteView.children(parent.fileId).map((entry) => [entry.name, entry.fileId]));
      namesIn.set(parent.fileId, names);
    }
    const holder = names.get(name);
    return holder === self ? undefined : holder;
  };
  const blockedBy = new Map<string, string>();
  /** Items whose move waits for a later round. */
  const waiting = new Set<string>();
  for (const [fileId, push] of moving) {
    const holder = holderOf(push.move.parent, push.move.name, fileId);
    if (holder !== undefined && moving.has(holder)) blockedBy.set(fileId, holder);
    else if (holder !== undefined && deleting.has(holder)) waiting.add(fileId);
  }

  const rings: Action[] = [];
  const inRing = new Set<string>();
  for (const cycle of findMoveCycles(blockedBy)) {
    const ring = planRing(
      cycle.map((fileId) => moving.get(fileId) as MovingPush),
      input,
    );
    // No usable parking name: each move is sent and meets the refusal as before (never deferred:
    // none of them would ever go first).
    if (ring) rings.push(ring);
    for (const fileId of cycle) inRing.add(fileId);
    if (!ring) for (const fileId of cycle) moving.delete(fileId);
  }
  for (const fileId of blockedBy.keys()) if (!inRing.has(fileId)) waiting.add(fileId);

  const deferred: Deferred[] = [];
  const defer = (path: string, reason: string) => deferred.push({ path, reason });
  /** Folders not created this round: what goes into them waits too. */
  const notCreated: string[] = [];
  const kept: Action[] = [];
  for (const action of actions) {
    if (action.type === "push" && waiting.has(action.fileId)) {
      if (action.content) kept.push({ ...action, move: null });
      defer(action.path, "the path is still taken by another item");
    } else if (action.type === "push" && inRing.has(action.fileId) && moving.has(action.fileId)) {
      // Sent as part of its ring.
    } else if (action.type === "createFolder" || action.type === "createFile") {
      const holder = holderOf(action.parent, action.name);
      const holderLeavesLater =
        holder !== undefined &&
        (waiting.has(holder) || (action.type === "createFolder" && moving.has(holder)));
      if (!holderLeavesLater) kept.push(action);
      else {
        defer(action.path, "the name is still taken by an item moving away");
        if (action.type === "createFolder") notCreated.push(action.path);
      }
    } else kept.push(action);
  }
  const inside = (path: string) => notCreated.some((folder) => path.startsWith(`${folder}/`));
  const result: Action[] = [];
  for (const action of kept) {
    if (action.type === "createFolder" || action.type === "createFile") {
      if (inside(action.path)) defer(action.path, "its folder is not on the server yet");
      else result.push(action);
    } else if (
      action.type === "push" &&
      action.move &&
      "newPath" in action.move.parent &&
      inside(action.path)
    ) {
      if (action.content) result.push({ ...action, move: null });
      defer(action.path, "its new folder is not on the server yet");
    } else result.push(action);
  }
  return { actions: [...result, ...rings], deferred };
}

/** The ring as one step, starting with a member that can be parked; null when none can. */
function planRing(members: MovingPush[], input: PushCycleInput): Action | null {
  for (let start = 0; start < members.length; start++) {
    const pushes = [...members.slice(start), ...members.slice(0, start)];
    const parkName = parkNameFor(pushes[0] as MovingPush, input);
    if (parkName) return { type: "pushMoveCycle", pushes, parkName };
  }
  return null;
}

/**
 * A name for the member's server item while the others move: in its folder on the server, derived
 * from the item and its version (the same plan picks the same name, so a retried request repeats),
 * valid under the contract, free on the server and here, and not ignored here (an ignored name would
 * hide the item from the plan after a stop half way, which then could not find the move).
 */
function parkNameFor(push: MovingPush, input: PushCycleInput): string | null {
  const remote = input.remoteView.entry(push.fileId);
  if (!remote) return null;
  const folder = remote.parentId === null ? "" : input.remoteView.path(remote.parentId);
  if (folder === undefined) return null;
  const siblings = new Set(input.remoteView.children(remote.parentId).map((entry) => entry.name));
  for (const name of parkNames(push.fileId, remote.version, remote.name)) {
    const path = joinPath(folder, name);
    if (fileNameProblem(name) || siblings.has(name) || input.localPaths.has(path)) continue;
    if (input.isIgnored(path, remote.isFolder)) continue;
    return name;
  }
  return null;
}

/** The names a ring may park an item under, from its id, its version then and its name then. */
export function parkNames(fileId: string, version: number, name: string): string[] {
  const tag = createHash("sha256").update(`${fileId}\n${version}`).digest("hex").slice(0, 12);
  return [`${name}.wsync-move-${tag}`, `wsync-move-${tag}`];
}

/**
 * Whether the server's only change to a synced item is a ring of ours parking it (the move after
 * `synced`, in its folder, to a parking name of it): a device stopped after the server took that
 * move and before recording it.
 */
export function parkedByRing(synced: SyncedEntry, remote: RemoteEntry): boolean {
  return (
    remote.version === synced.version + 1 &&
    remote.parentId === synced.parentId &&
    remote.isFolder === synced.isFolder &&
    sameChunks(remote.chunks, synced.chunks) &&
    !remoteExecutableChanged(synced, remote) &&
    parkNames(synced.fileId, synced.version, synced.name).includes(remote.name)
  );
}
