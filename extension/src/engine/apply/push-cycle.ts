import type { Action, PushAction } from "../plan/actions.ts";
import { applyPush, type CreatedFolders } from "./apply-remote.ts";
import { type ApplyContext, requireUnchanged, StaleLocalStateError } from "./context.ts";

/**
 * Applies a ring of local moves (see the `pushMoveCycle` action) on the server, one move at a time,
 * each recorded as it succeeds: the first member to its parking name, the others last to first,
 * then the first to its place. No bytes: the local items have moved already. Each member's edit, if
 * any, is committed first. A refusal half way leaves the records telling where the server has each
 * item, so the next plan sends what is left as ordinary moves (a chain now, no longer a ring).
 */
export async function applyPushMoveCycle(
  ctx: ApplyContext,
  action: Extract<Action, { type: "pushMoveCycle" }>,
  created: CreatedFolders,
): Promise<void> {
  const [first, ...others] = action.pushes;
  if (!first) return;
  for (const push of action.pushes) {
    if (!push.move) throw new Error("a ring of local moves holds only moves");
    await requireUnchanged(ctx, push.local);
  }
  for (const push of action.pushes) if (push.content) await applyPush(ctx, { ...push, move: null }, created);
  const base = ctx.store.synced.get(first.fileId);
  if (!base) throw new StaleLocalStateError(first.path);
  const move = (push: PushAction, to: PushAction["move"]) =>
    applyPush(ctx, { ...push, content: false, move: to }, created);
  await move(first, { parent: { fileId: base.parentId }, name: action.parkName });
  for (const push of others.reverse()) await move(push, push.move);
  await move(first, first.move);
}
