import { createHash } from "node:crypto";
import { fileNameProblem } from "@wsync/shared-protocol";
import { joinPath } from "../fs/types.ts";
import { remoteExecutableChanged } from "../model/executable.ts";
import { type RemoteEntry, type SyncedEntry, sameChunks } from "../model/types.ts";
import type { Action, Deferred, Plan, PushAction } from "./actions.ts";
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
 * Moves onto a name held by an item that stays are left alone (the server's refusal makes ours the copy).
 */
export function planPushCycles(actions: readonly Action[], input: PushCycleInput): Plan {
  const { remoteView } = input;
  const moving = new Map<string, MovingPush>();
  for (const action of actions) {
    if (action.type === "push" && action.move) moving.set(action.fileId, action as MovingPush);
  }
  const blockedBy = new Map<string, string>();
  for (const [fileId, push] of moving) {
    if (!("fileId" in push.move.parent)) continue; // a folder new this round holds nothing yet
    const holder = remoteView
      .children(push.move.parent.fileId)
      .find((entry) => entry.name === push.move.name && entry.fileId !== fileId);
    if (holder && moving.has(holder.fileId)) blockedBy.set(fileId, holder.fileId);
  }
  if (blockedBy.size === 0) return { actions: [...actions], deferred: [] };

  const rings: Action[] = [];
  const replaced = new Map<string, PushAction | null>();
  const inRing = new Set<string>();
  for (const cycle of findMoveCycles(blockedBy)) {
    const ring = planRing(
      cycle.map((fileId) => moving.get(fileId) as MovingPush),
      input,
    );
    // No usable parking name: each move is sent and meets the refusal as before (never deferred:
    // none of them would ever go first).
    for (const fileId of cycle) inRing.add(fileId);
    if (!ring) continue;
    rings.push(ring);
    for (const fileId of cycle) replaced.set(fileId, null);
  }
  const deferred: Deferred[] = [];
  for (const [fileId] of blockedBy) {
    if (inRing.has(fileId)) continue;
    const push = moving.get(fileId) as MovingPush;
    replaced.set(fileId, push.content ? { ...push, move: null } : null);
    deferred.push({ path: push.path, reason: "the path is still taken by another item" });
  }
  const kept: Action[] = [];
  for (const action of actions) {
    if (action.type !== "push" || !replaced.has(action.fileId)) kept.push(action);
    else {
      const instead = replaced.get(action.fileId);
      if (instead) kept.push(instead);
    }
  }
  return { actions: [...kept, ...rings], deferred };
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
