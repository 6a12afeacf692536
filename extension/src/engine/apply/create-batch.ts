import { type ChunkHash, type CreateFileRequest, limits, NetworkError } from "@wsync/shared-protocol";
import { executableToSend } from "../model/executable.ts";
import type { Action } from "../plan/actions.ts";
import { StateBatch } from "../state/state-store.ts";
import { withRetry } from "../transfer/retry.ts";
import { type CreatedFolders, freshKey, recordInto, resolveParent } from "./apply-remote.ts";
import type { ApplyContext } from "./context.ts";

type CreateFile = Extract<Action, { type: "createFile" }>;

/** Creates per batch request: one server transaction each, and well under the API's limit. */
export const CREATE_BATCH = Math.min(250, limits.createBatchMax);

export interface BatchOutcome {
  /** Created and recorded. */
  done: CreateFile[];
  /** Failed in a way the single-create path would fail too (offline): not worth trying one by one. */
  failed: Array<{ action: CreateFile; error: unknown }>;
  /**
   * For the single-create path, whose handling stays the one place for everything but the plain case:
   * a parent not created, chunks not all on the server yet, or an item the batch refused (a name taken,
   * chunks missing, ...): one by one it meets the same answer and handles it as it always has.
   */
  single: CreateFile[];
}

interface Ready {
  action: CreateFile;
  body: CreateFileRequest & { chunks: ChunkHash[] };
}

/**
 * Creates new files in batch requests (`POST /files/batch`): those whose parent exists and whose
 * chunks are already on the server (uploaded ahead), each batch one request and one store commit.
 */
export async function createFilesBatched(
  ctx: ApplyContext,
  actions: readonly CreateFile[],
  created: CreatedFolders,
): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { done: [], failed: [], single: [] };
  const ready: Ready[] = [];
  for (const action of actions) {
    const chunks = action.local.chunks.map((chunk) => chunk.hash);
    const uploaded = chunks.every((hash) => ctx.store.uploaded.has(hash) || ctx.present?.has(hash));
    let parentId: string | null;
    try {
      parentId = resolveParent(action.parent, created);
    } catch {
      outcome.single.push(action);
      continue;
    }
    const executable = executableToSend(action.local.mode, undefined);
    const body = { parentId, name: action.name, isFolder: false, chunks, executable };
    if (uploaded) ready.push({ action, body });
    else outcome.single.push(action);
  }
  for (const batch of batches(ready)) {
    if (ctx.signal.aborted) break;
    await createBatch(ctx, batch, outcome);
  }
  return outcome;
}

/** Consecutive groups of at most CREATE_BATCH items and limits.createBatchChunksMax chunks. */
function batches(ready: readonly Ready[]): Ready[][] {
  const groups: Ready[][] = [];
  let group: Ready[] = [];
  let chunks = 0;
  for (const item of ready) {
    const n = item.body.chunks.length;
    if (group.length > 0 && (group.length >= CREATE_BATCH || chunks + n > limits.createBatchChunksMax)) {
      groups.push(group);
      group = [];
      chunks = 0;
    }
    group.push(item);
    chunks += n;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

async function createBatch(ctx: ApplyContext, batch: readonly Ready[], outcome: BatchOutcome) {
  const key = freshKey();
  let results: Awaited<ReturnType<typeof ctx.api.createFiles>>["results"];
  try {
    const body = { creates: batch.map((item) => item.body) };
    ({ results } = await withRetry(
      () => ctx.api.createFiles(body, { idempotencyKey: key, signal: ctx.signal }),
      { signal: ctx.signal },
    ));
  } catch (error) {
    // Offline: one by one would only wait out the same retries. Anything else (a server without the
    // extension, a refused body): the single path makes each request on its own.
    if (error instanceof NetworkError) for (const { action } of batch) outcome.failed.push({ action, error });
    else outcome.single.push(...batch.map((item) => item.action));
    return;
  }
  const state = new StateBatch();
  const recorded: CreateFile[] = [];
  await Promise.all(
    batch.map(async ({ action, body }, index) => {
      const result = results[index];
      if (!result || !("fileId" in result)) {
        outcome.single.push(action);
        return;
      }
      const fields = {
        parentId: body.parentId,
        name: body.name,
        isFolder: false,
        chunks: body.chunks,
        executable: body.executable ?? false,
      };
      await recordInto(state, ctx, result, { ...fields, size: action.local.size }, action.local);
      recorded.push(action);
    }),
  );
  try {
    await ctx.store.commit(state);
    outcome.done.push(...recorded);
  } catch (error) {
    // Created but not recorded: the next round finds each as a name taken and links its twin.
    for (const action of recorded) outcome.failed.push({ action, error });
  }
}
