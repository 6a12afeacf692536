import type { Deferred } from "./plan/actions.ts";
import type { SkippedEntry } from "./scan/scanner.ts";
import type { TransferProgress, TransferSnapshot } from "./transfer/stats.ts";

export type EngineState =
  /** Not started, or stopped. */
  | "stopped"
  /** Scanning, transferring, applying. */
  | "syncing"
  /** In agreement with the server. */
  | "idle"
  | "paused"
  /** The server cannot be reached; retrying. */
  | "offline"
  /** The token was refused (device revoked, or signed out): sign in again. */
  | "unauthorized"
  /** Something failed that retrying did not fix; see `lastError`. */
  | "error";

export interface EngineStatus {
  state: EngineState;
  /** Whether the notifier's push channel is up (WebSocket), down, or replaced by the long poll. */
  notifications: "connected" | "disconnected" | "polling" | "off";
  lastSyncAt: string | null;
  lastError: { code: string; message: string } | null;
  /** Not synced, and the user should know: symbolic links, special files, unreadable files. */
  skipped: SkippedEntry[];
  /** Waiting for something else first (another item's move, a folder to be created). */
  deferred: Deferred[];
  /** Server items we refuse to write here (invalid names, cycles). */
  problems: Array<{ fileId: string; reason: string }>;
  transfers: TransferSnapshot;
  /** Conflicted copies made since start. */
  conflicts: ConflictEvent[];
}

export interface ConflictEvent {
  /** The path whose server version stays (or comes back). */
  path: string;
  /** Where this device's bytes were kept. */
  copyPath: string;
  reason: string;
  at: string;
}

export interface EngineEvents {
  status: EngineStatus;
  conflict: ConflictEvent;
  transfer: TransferProgress;
  /** A round applied changes; `paths` were written, moved or deleted locally. */
  synced: { paths: string[] };
  log: { level: "debug" | "info" | "warn" | "error"; message: string; data?: Record<string, unknown> };
}

export type EngineEventName = keyof EngineEvents;

/** A tiny typed emitter: listeners get exactly the payload of their event; errors in them are contained. */
export class Emitter {
  private readonly listeners = new Map<EngineEventName, Set<(payload: never) => void>>();

  on<E extends EngineEventName>(event: E, listener: (payload: EngineEvents[E]) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener as (payload: never) => void);
    this.listeners.set(event, set);
    return () => set.delete(listener as (payload: never) => void);
  }

  emit<E extends EngineEventName>(event: E, payload: EngineEvents[E]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        (listener as (payload: EngineEvents[E]) => void)(payload);
      } catch {
        // A listener's failure is the listener's: the engine goes on.
      }
    }
  }
}
