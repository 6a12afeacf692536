import type { TransferProgress as FileTransfer } from "../engine/index.ts";
import type { TransferProgress } from "./progress-model.ts";

/**
 * Adds up the engine's per-file transfer events into one pass's progress (files and bytes), for the
 * status bar ("Syncing 3 files") and the progress notification. A pass ends when the engine is idle
 * again; the next starts from zero.
 */
export class TransferTracker {
  private files = new Map<string, { done: number; total: number }>();

  /** Records one event; the key includes the direction, as a file can go both ways in one pass. */
  record(event: FileTransfer): void {
    const key = `${event.direction}:${event.path}`;
    const before = this.files.get(key);
    // Retries restart a chunk: the bar never goes back.
    const done = Math.max(before?.done ?? 0, Math.min(event.bytesDone, event.bytesTotal));
    this.files.set(key, { done, total: event.bytesTotal });
  }

  /** The pass is over (idle, paused, offline, stopped). */
  reset(): void {
    this.files = new Map();
  }

  progress(): TransferProgress {
    let filesDone = 0;
    let bytesDone = 0;
    let bytesTotal = 0;
    for (const file of this.files.values()) {
      if (file.done >= file.total) filesDone++;
      bytesDone += file.done;
      bytesTotal += file.total;
    }
    return { filesDone, filesTotal: this.files.size, bytesDone, bytesTotal };
  }

  /** Files still moving. */
  active(): number {
    let count = 0;
    for (const file of this.files.values()) if (file.done < file.total) count++;
    return count;
  }
}
