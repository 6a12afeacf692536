import { type ChunkHash, NetworkError } from "@wsync/shared-protocol";
import pLimit from "p-limit";
import type { Action } from "../plan/actions.ts";
import type { LocalEntry } from "../scan/scanner.ts";
import { uploadAhead } from "../transfer/uploader.ts";
import { applyAdopt, applyConflictCopy, applyDeleteLocal, applyForget, applyPull } from "./apply-local.ts";
import {
  applyCreateFile,
  applyCreateFolder,
  applyDeleteRemote,
  applyPush,
  type CreatedFolders,
} from "./apply-remote.ts";
import { type ApplyContext, uploadDeps } from "./context.ts";
import { createFilesBatched } from "./create-batch.ts";
import { applyMoveCycle } from "./move-cycle.ts";
import { applyPushMoveCycle } from "./push-cycle.ts";

export interface RoundResult {
  succeeded: number;
  failed: Array<{ action: Action; error: unknown }>;
}

const depth = (path: string) => path.split("/").length;

/** Files whose chunks are uploaded ahead together; small, so the first creates start early. */
const SLICE = 250;

/** Groups by depth, shallowest first: a folder's parent is in an earlier group. */
function byDepth<A>(list: A[], pathOf: (action: A) => string): A[][] {
  const groups = new Map<number, A[]>();
  for (const action of list) {
    const d = depth(pathOf(action));
    groups.set(d, [...(groups.get(d) ?? []), action]);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([, group]) => group);
}

/**
 * Applies a plan in phases whose order keeps every step safe on its own: local bookkeeping and
 * conflicted copies first; then what comes from the server (folders before what goes in them, rings
 * of moves after the folders); local deletes (after items moved out); folders created on the server;
 * rings of local moves, then the other edits and moves sent; server deletes (after items moved out);
 * new files created (after a delete freed their name). A failed step never stops the others: each
 * checks its own preconditions, and the next round plans again from the facts.
 */
export async function executePlan(roundCtx: ApplyContext, actions: readonly Action[]): Promise<RoundResult> {
  const present = new Set<ChunkHash>();
  const ctx: ApplyContext = { ...roundCtx, present };
  const result: RoundResult = { succeeded: 0, failed: [] };
  const created: CreatedFolders = new Map();
  const limit = pLimit(ctx.concurrency);
  const of = <T extends Action["type"]>(type: T) =>
    actions.filter((a): a is Extract<Action, { type: T }> => a.type === type);

  // Once the network is gone, the other steps would only wait out their retries one by one.
  let offline: NetworkError | undefined;
  const run = async (action: Action, step: () => Promise<void>) => {
    // Paused or stopped: what has not started waits for the next round.
    if (ctx.signal.aborted) return;
    if (offline) {
      result.failed.push({ action, error: offline });
      return;
    }
    try {
      await step();
      result.succeeded++;
    } catch (error) {
      if (error instanceof NetworkError) offline = error;
      result.failed.push({ action, error });
    }
  };
  const sequential = async <A extends Action>(list: A[], step: (action: A) => Promise<void>) => {
    for (const action of list) await run(action, () => step(action));
  };
  const parallel = async <A extends Action>(list: A[], step: (action: A) => Promise<void>) => {
    await Promise.all(list.map((action) => limit(() => run(action, () => step(action)))));
  };
  const ahead = (list: Array<{ path: string; local: LocalEntry }>) =>
    uploadAhead(
      { ...uploadDeps(ctx), present },
      list.map((action) => ({ path: action.local.path, chunks: action.local.chunks })),
      // Best effort, and awaited only later (it runs beside the previous slice's steps): a failure
      // here, e.g. the state store's disk full, must not be an unhandled rejection. Each step then
      // uploads what is missing itself and fails with the error that matters for it.
    ).catch(() => {});
  /**
   * Steps that need their files' chunks on the server, a slice at a time: the slice's chunks go up
   * ahead in batches (while the previous slice's steps run), then its steps run, each finding its
   * chunks there and only making its own request. A step still uploads what is missing itself.
   */
  const withChunksAhead = async <A extends Action & { path: string; local: LocalEntry }>(
    list: A[],
    step: (action: A) => Promise<void>,
    runSlice: (slice: A[]) => Promise<void> = (slice) => parallel(slice, step),
  ) => {
    const slices: A[][] = [];
    for (let i = 0; i < list.length; i += SLICE) slices.push(list.slice(i, i + SLICE));
    let next = slices[0] ? ahead(slices[0]) : undefined;
    for (const [index, slice] of slices.entries()) {
      await next;
      if (ctx.signal.aborted) return;
      const following = slices[index + 1];
      next = following && !offline ? ahead(following) : undefined;
      await runSlice(slice);
    }
    await next;
  };

  await sequential(of("conflictCopy"), (a) => applyConflictCopy(ctx, a));
  await sequential(of("forget"), (a) => applyForget(ctx, a));
  await sequential(of("adopt"), (a) => applyAdopt(ctx, a));
  const pulls = of("pull");
  const folderPulls = pulls.filter((a) => a.remote.isFolder).sort((a, b) => depth(a.to) - depth(b.to));
  await sequential(folderPulls, (a) => applyPull(ctx, a));
  // Rings of moves (swaps, rotations) after the folders they may move into exist.
  await sequential(of("moveCycle"), (a) => applyMoveCycle(ctx, a));
  await parallel(
    pulls.filter((a) => !a.remote.isFolder),
    (a) => applyPull(ctx, a),
  );
  await sequential(
    of("deleteLocal").sort((a, b) => depth(b.path) - depth(a.path)),
    (a) => applyDeleteLocal(ctx, a),
  );
  // Folders of one depth are independent of each other: their parents are all in earlier groups.
  for (const group of byDepth(of("createFolder"), (a) => a.path))
    await parallel(group, (a) => applyCreateFolder(ctx, a, created));
  // Rings of local moves before the other pushes: a move waiting on a ring member waits a round.
  await sequential(of("pushMoveCycle"), (a) => applyPushMoveCycle(ctx, a, created));
  const pushes = of("push");
  await parallel(
    pushes.filter((a) => !a.content),
    (a) => applyPush(ctx, a, created),
  );
  await withChunksAhead(
    pushes.filter((a) => a.content),
    (a) => applyPush(ctx, a, created),
  );
  await sequential(of("deleteRemote"), (a) => applyDeleteRemote(ctx, a));
  const createSingly = (a: Extract<Action, { type: "createFile" }>) => applyCreateFile(ctx, a, created);
  // A slice's creates go in batch requests; what a batch cannot do goes the single way, as before.
  await withChunksAhead(of("createFile"), createSingly, async (slice) => {
    if (ctx.signal.aborted) return;
    if (offline) {
      for (const action of slice) result.failed.push({ action, error: offline });
      return;
    }
    const batched = await createFilesBatched(ctx, slice, created);
    result.succeeded += batched.done.length;
    for (const failure of batched.failed) {
      if (failure.error instanceof NetworkError) offline = failure.error;
      result.failed.push(failure);
    }
    await parallel(batched.single, createSingly);
  });
  return result;
}
