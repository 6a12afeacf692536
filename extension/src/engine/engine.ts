import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  ApiClient,
  type FetchLike,
  isApiError,
  NetworkError,
  ProtocolError,
  redact,
  redactText,
} from "@wsync/shared-protocol";
import pLimit from "p-limit";
import type { ApplyContext } from "./apply/context.ts";
import { executePlan } from "./apply/executor.ts";
import { isParkPath, recoverParked } from "./apply/park.ts";
import { DEFAULT_CHUNKING } from "./chunking/chunker.ts";
import { InlineHasher, WorkerHasher } from "./chunking/hasher.ts";
import { OnDemandHasher } from "./chunking/on-demand-hasher.ts";
import type { SyncEngine, SyncEngineOptions } from "./engine-options.ts";
import { locatorOf, lockStateDir, seedEntries, syncedPaths, writtenEntries } from "./engine-support.ts";
import { type ConflictEvent, Emitter, type EngineState, type EngineStatus } from "./events.ts";
import { NodeFileSystem } from "./fs/node-fs.ts";
import { baseName, type WatchHandle } from "./fs/types.ts";
import { createHistory } from "./history.ts";
import { planSync } from "./plan/planner.ts";
import { pullChanges } from "./remote/changes.ts";
import { withIdleTimeout } from "./remote/idle-timeout-fetch.ts";
import { NotifierClient } from "./remote/notifier-client.ts";
import { IgnoreRules, TEMP_PREFIX } from "./scan/ignore-rules.ts";
import { Scanner } from "./scan/scanner.ts";
import { StateBatch, StateStore } from "./state/state-store.ts";
import { ChunkCache } from "./transfer/chunk-cache.ts";
import { nodeHttpFetch } from "./transfer/node-http-fetch.ts";
import { TransferStats } from "./transfer/stats.ts";

const MAX_ROUNDS = 50;

export type { SyncEngine, SyncEngineOptions } from "./engine-options.ts";

export function createSyncEngine(options: SyncEngineOptions): SyncEngine {
  const emitter = new Emitter();
  const fs = options.fileSystem ?? new NodeFileSystem(options.folder);
  // node:http, not the global fetch: see node-http-fetch.ts (memory of big files, issue 5).
  const givenFetch: FetchLike = options.fetch ?? nodeHttpFetch;
  // Every request tells whether the servers are reachable, so the status says "offline" as soon as
  // one fails for want of a network, not only when the round gives up (its retries can take minutes
  // when a dropped link makes each request wait for its timeout).
  const fetchImpl: FetchLike = async (input, init) => {
    try {
      const response = await givenFetch(input, init);
      if (state === "offline" && running) setState("syncing");
      return response;
    } catch (error) {
      if (state === "syncing" && !cycleAbort.signal.aborted) setState("offline");
      throw error;
    }
  };
  const api = new ApiClient({
    baseUrl: options.apiUrl,
    ...(options.notifierUrl ? { notifierUrl: options.notifierUrl } : {}),
    token: options.token,
    fetch: fetchImpl,
  });
  // Metadata calls have the ApiClient's deadline; chunk transfers are abandoned when they stall.
  const transferFetch = withIdleTimeout(fetchImpl, { idleMs: 60_000 });
  const rules = new IgnoreRules(options.ignorePatterns ?? []);
  const stats = new TransferStats();
  const now = options.now ?? (() => new Date());
  const chunking = options.chunking ?? DEFAULT_CHUNKING;
  const concurrency = options.concurrency ?? 4;
  let hasher: OnDemandHasher | undefined;
  let store: StateStore | undefined;
  let cache: ChunkCache | undefined;
  let scanner: Scanner | undefined;
  let unlock: (() => Promise<void>) | undefined;
  let watcher: WatchHandle | undefined;
  let notifier: NotifierClient | undefined;
  let state: EngineState = "stopped";
  let notifications: EngineStatus["notifications"] = "off";
  let paused = false;
  let lastSyncAt: string | null = null;
  let lastError: EngineStatus["lastError"] = null;
  let deferred: EngineStatus["deferred"] = [];
  let problems: EngineStatus["problems"] = [];
  const conflicts: ConflictEvent[] = [];
  let running: Promise<void> | undefined;
  let rerun = false;
  let fullScanNeeded = true;
  let pullNeeded = true;
  const dirty = new Set<string>();
  let debounce: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelay = 1000;
  let cycleAbort = new AbortController();

  const log = (level: "debug" | "info" | "warn" | "error", message: string, data?: Record<string, unknown>) =>
    // Scrubbed here, once, so no message or error detail can carry this device's token to a log.
    emitter.emit("log", {
      level,
      message: redactText(message, [options.token]),
      ...(data ? { data: redact(data, [options.token]) as Record<string, unknown> } : {}),
    });

  const status = (): EngineStatus => ({
    state,
    notifications,
    lastSyncAt,
    lastError,
    skipped: scanner ? [...scanner.skipped.values()] : [],
    deferred,
    problems,
    transfers: stats.snapshot(),
    conflicts: [...conflicts],
  });
  const setState = (next: EngineState) => {
    if (next === state && next !== "idle") return;
    state = next;
    emitter.emit("status", status());
  };

  const scheduleRetry = () => {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      pullNeeded = true;
      void kick();
    }, retryDelay);
    retryTimer.unref?.();
    retryDelay = Math.min(retryDelay * 2, 60_000);
  };

  const halted = () => state === "stopped" || state === "unauthorized";
  const kick = (): Promise<void> => {
    if (paused || halted()) return Promise.resolve();
    if (running) {
      rerun = true;
      return running;
    }
    running = (async () => {
      do {
        rerun = false;
        await cycle();
      } while (rerun && !paused && !halted());
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  async function scan(): Promise<void> {
    const s = scanner as Scanner;
    if (fullScanNeeded) {
      fullScanNeeded = false;
      dirty.clear();
      await s.fullScan();
      // No transfer runs between cycles: temporary files now are leftovers of a crash. An item parked
      // by a ring of moves is a user's item, though: it comes back (and is scanned) instead.
      let byInode: Map<number, string> | undefined;
      const findByInode = async (inode: number) => {
        // Built only if a parked item needs looking for, not on every full scan of a large workspace.
        byInode ??= new Map([...s.entries.values()].map((entry) => [entry.inode, entry.path]));
        return byInode.get(inode);
      };
      const restored = await recoverParked(
        fs,
        store as StateStore,
        s.temporaries,
        options.deviceName,
        findByInode,
      );
      for (const path of s.temporaries) {
        if (isParkPath(path)) continue;
        if ((await fs.lstat(path))?.kind === "file") await fs.unlink(path).catch(() => {});
      }
      s.temporaries.clear();
      if (restored.length > 0) await s.rescan(restored);
    } else if (dirty.size > 0) {
      const paths = [...dirty];
      dirty.clear();
      await s.rescan(paths);
    }
  }

  async function cycle(): Promise<void> {
    const st = store as StateStore;
    const s = scanner as Scanner;
    cycleAbort = new AbortController();
    setState("syncing");
    try {
      if (pullNeeded) {
        pullNeeded = false;
        await pullChanges(api, st);
      }
      await scan();
      await hasher?.release();
      let progressed = true;
      const applied = new Set<string>();
      // The last round's failure, if any: a round that ends with failed actions must not report idle.
      let unresolved: unknown = null;
      for (let round = 0; round < MAX_ROUNDS && progressed; round++) {
        unresolved = null;
        const plan = planSync({
          local: s.entries,
          synced: st.synced,
          remote: st.remote,
          isIgnored: (path, isFolder) => rules.isIgnored(path, isFolder),
          deviceName: options.deviceName,
          now: now(),
        });
        deferred = plan.deferred;
        problems = plan.problems;
        if (plan.actions.length === 0) break;
        const ctx = applyContext(st, s);
        const result = await executePlan(ctx, plan.actions);
        s.learnWritten(writtenEntries(st.synced, ctx.written));
        if (ctx.signal.aborted) {
          await s.rescan([...ctx.touched]);
          break;
        }
        for (const path of ctx.touched) applied.add(path);
        for (const failure of result.failed) {
          log("warn", `${failure.action.type} failed`, { error: describe(failure.error) });
          if (isFatal(failure.error)) throw failure.error;
          unresolved = failure.error;
        }
        await s.rescan([...ctx.touched, ...dirty]);
        dirty.clear();
        await hasher?.release();
        if (result.failed.length > 0) await pullChanges(api, st);
        progressed = result.succeeded > 0;
        if (!progressed) scheduleRetry();
      }
      if (progressed) retryDelay = 1000;
      await dropOrphans(st);
      if (applied.size > 0) emitter.emit("synced", { paths: [...applied] });
      if (unresolved !== null && !paused) {
        // E.g. a download that hit a full disk: the retry is scheduled; the user sees why it is not done.
        lastError = describe(unresolved);
        setState(unresolved instanceof NetworkError ? "offline" : "error");
        return;
      }
      lastError = null;
      lastSyncAt = now().toISOString();
      setState(paused ? "paused" : "idle");
    } catch (error) {
      if (cycleAbort.signal.aborted) {
        setState(paused ? "paused" : state);
        return;
      }
      lastError = describe(error);
      if (isApiError(error, "unauthorized")) {
        notifier?.stop();
        setState("unauthorized");
        return;
      }
      log("error", "sync failed", { error: lastError });
      pullNeeded = true;
      fullScanNeeded = true;
      setState(error instanceof NetworkError ? "offline" : "error");
      scheduleRetry();
    }
  }

  function applyContext(st: StateStore, s: Scanner): ApplyContext {
    return {
      fs,
      api,
      store: st,
      stats,
      deviceId: options.deviceId,
      deviceName: options.deviceName,
      concurrency,
      chunkLimit: pLimit(concurrency),
      fetch: transferFetch,
      locator: locatorOf(fs, s.entries.values(), cache),
      ...(cache ? { cache } : {}),
      onConflict: (conflict) => {
        const event = { ...conflict, at: now().toISOString() };
        conflicts.push(event);
        emitter.emit("conflict", event);
      },
      onProgress: (progress) => emitter.emit("transfer", progress),
      signal: cycleAbort.signal,
      touched: new Set(),
      written: new Map(),
    };
  }

  const onFileEvent = (path: string | null) => {
    if (path === null) fullScanNeeded = true;
    else if (baseName(path).startsWith(TEMP_PREFIX)) return;
    else dirty.add(path);
    clearTimeout(debounce);
    debounce = setTimeout(() => void kick(), options.debounceMs ?? 150);
  };

  const engine: SyncEngine = {
    folder: options.folder,
    async start() {
      if (state !== "stopped") return;
      await mkdir(options.stateDir, { recursive: true });
      unlock = await lockStateDir(options.stateDir);
      store = await StateStore.open(options.stateDir);
      const cacheBytes = options.chunkCacheBytes ?? 256 * 1024 * 1024;
      cache =
        cacheBytes > 0 ? await ChunkCache.open(join(options.stateDir, "chunks"), cacheBytes) : undefined;
      hasher = new OnDemandHasher(() =>
        options.hashThreads === 0 ? new InlineHasher() : new WorkerHasher(options.hashThreads),
      );
      scanner = new Scanner(fs, rules, { chunking, hasher, concurrency });
      scanner.seed(seedEntries(store.synced));
      state = paused ? "paused" : "idle";
      if (options.watch !== false && fs.watch) {
        watcher = fs.watch(onFileEvent, (error) => {
          log("warn", "file watcher failed; rescanning", { error: error.message });
          fullScanNeeded = true;
          void kick();
        });
        // The first scan starts once the watcher listens: nothing changed in between goes unseen.
        await watcher.ready;
      }
      if (options.notifierUrl && options.notifications !== false) {
        const st = store;
        notifier = new NotifierClient({
          webSocketUrl: `${options.notifierUrl.replace(/^http/, "ws").replace(/\/+$/, "")}/ws`,
          token: options.token,
          api,
          syncToken: () => st.syncToken,
          onChange: () => {
            pullNeeded = true;
            return kick();
          },
          onUnauthorized: () => {
            lastError = { code: "unauthorized", message: "the notifier refused this device's token" };
            setState("unauthorized");
          },
          onConnection: (connection) => {
            notifications = connection;
            emitter.emit("status", status());
          },
        });
        notifications = "disconnected";
        notifier.start();
      }
      await kick();
    },
    async stop() {
      const wasRunning = running;
      state = "stopped";
      cycleAbort.abort();
      clearTimeout(debounce);
      clearTimeout(retryTimer);
      watcher?.close();
      notifier?.stop();
      notifications = "off";
      await wasRunning?.catch(() => {});
      await hasher?.close();
      await store?.close();
      await unlock?.();
      unlock = undefined;
      emitter.emit("status", status());
    },
    async syncNow() {
      fullScanNeeded = true;
      pullNeeded = true;
      await kick();
      // A request that arrived during a cycle already running is served by the rerun.
      while (running) await running;
    },
    pause() {
      paused = true;
      cycleAbort.abort();
      // Paused before start (the pause setting at launch): start() must still open the store.
      if (state !== "stopped") setState("paused");
    },
    resume() {
      if (!paused) return;
      paused = false;
      state = "idle";
      fullScanNeeded = true;
      pullNeeded = true;
      void kick();
    },
    status,
    on: emitter.on.bind(emitter),
    history: createHistory({
      api,
      fetch: transferFetch,
      store: () => store,
      isIgnored: (path, isFolder) => rules.isIgnored(path, isFolder),
      afterRestore: () => engine.syncNow(),
    }),
  };
  return engine;
}

/**
 * Synced items whose folder is no longer synced (a round that failed half way) stand for nothing the
 * planner can see; dropping them keeps the state from growing stale. Their files, if any, are new again.
 */
async function dropOrphans(store: StateStore): Promise<void> {
  const resolved = syncedPaths(store.synced);
  const batch = new StateBatch();
  for (const fileId of store.synced.keys()) if (!resolved.has(fileId)) batch.deleteSynced(fileId);
  await store.commit(batch);
}

/** What the status shows of an error (and the CLI prints): never a token, whatever the error quoted. */
function describe(error: unknown): { code: string; message: string } {
  if (isApiError(error)) return { code: error.code, message: redactText(error.message) };
  if (error instanceof NetworkError || error instanceof ProtocolError)
    return { code: error.code, message: redactText(error.message) };
  const code = (error as { code?: unknown })?.code;
  return {
    code: typeof code === "string" ? code : "error",
    message: redactText((error as Error)?.message ?? String(error)),
  };
}

/** Failures that no retry fixes: the whole cycle stops. */
function isFatal(error: unknown): boolean {
  return isApiError(error, "unauthorized") || isApiError(error, "quota_exceeded");
}
