import { NetworkError } from "@wsync/shared-protocol";
import pLimit from "p-limit";
import type { Action } from "../plan/actions.ts";
import { applyAdopt, applyConflictCopy, applyDeleteLocal, applyForget, applyPull } from "./apply-local.ts";
import {
  applyCreateFile,
  applyCreateFolder,
  applyDeleteRemote,
  applyPush,
  type CreatedFolders,
} from "./apply-remote.ts";
import type { ApplyContext } from "./context.ts";

export interface RoundResult {
  succeeded: number;
  failed: Array<{ action: Action; error: unknown }>;
}

const depth = (path: string) => path.split("/").length;

/**
 * Applies a plan in phases whose order keeps every step safe on its own: local bookkeeping and
 * conflicted copies first; then what comes from the server (folders before what goes in them); local
 * deletes (after items moved out); folders created on the server; edits and moves sent; server deletes
 * (after items moved out); new files created (after a delete freed their name). A failed step never
 * stops the others: each checks its own preconditions, and the next round plans again from the facts.
 */
export async function executePlan(ctx: ApplyContext, actions: readonly Action[]): Promise<RoundResult> {
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

  await sequential(of("conflictCopy"), (a) => applyConflictCopy(ctx, a));
  await sequential(of("forget"), (a) => applyForget(ctx, a));
  await sequential(of("adopt"), (a) => applyAdopt(ctx, a));
  const pulls = of("pull");
  const folderPulls = pulls.filter((a) => a.remote.isFolder).sort((a, b) => depth(a.to) - depth(b.to));
  await sequential(folderPulls, (a) => applyPull(ctx, a));
  await parallel(
    pulls.filter((a) => !a.remote.isFolder),
    (a) => applyPull(ctx, a),
  );
  await sequential(
    of("deleteLocal").sort((a, b) => depth(b.path) - depth(a.path)),
    (a) => applyDeleteLocal(ctx, a),
  );
  await sequential(
    of("createFolder").sort((a, b) => depth(a.path) - depth(b.path)),
    (a) => applyCreateFolder(ctx, a, created),
  );
  await parallel(of("push"), (a) => applyPush(ctx, a, created));
  await sequential(of("deleteRemote"), (a) => applyDeleteRemote(ctx, a));
  await parallel(of("createFile"), (a) => applyCreateFile(ctx, a, created));
  return result;
}
