import type { ApiClient, Change } from "@wsync/shared-protocol";
import type { RemoteEntry } from "../model/types.ts";
import { StateBatch, type StateStore } from "../state/state-store.ts";
import { withRetry } from "../transfer/retry.ts";

export function remoteEntryOf(change: Change): RemoteEntry {
  return {
    fileId: change.fileId,
    parentId: change.parentId,
    name: change.name,
    isFolder: change.isFolder,
    version: change.version,
    size: change.size,
    chunks: change.chunks ?? [],
    executable: change.executable ?? false,
    deleted: change.action === "deleted",
    updatedAt: change.updatedAt,
    deviceId: change.deviceId ?? null,
  };
}

/**
 * Catches up with the server: reads the changes feed from the stored sync token to the end and records
 * each page (the server's tree and the new token) in one durable batch, so a crash resumes from the
 * last page written and no change is missed. Returns how many changes were read.
 */
export async function pullChanges(api: ApiClient, store: StateStore, signal?: AbortSignal): Promise<number> {
  let count = 0;
  for (;;) {
    const since = store.syncToken;
    // Few retries: when the network is down the engine goes offline and retries the whole cycle later.
    const page = await withRetry(() => api.changes({ ...(since ? { since } : {}), limit: 1000 }), {
      retries: 2,
      maxTimeoutMs: 2000,
      ...(signal ? { signal } : {}),
    });
    const batch = new StateBatch();
    for (const change of page.changes) {
      const known = store.remote.get(change.fileId);
      // Our own writes are recorded as they succeed; an older echo must not roll them back.
      if (known && known.version > change.version) continue;
      batch.putRemote(remoteEntryOf(change));
    }
    batch.setSyncToken(page.syncToken);
    await store.commit(batch);
    count += page.changes.length;
    if (!page.hasMore) return count;
  }
}
