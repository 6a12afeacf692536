import type { TransferProgress as FileTransfer } from "../engine/index.ts";
import type { TransferProgress } from "./progress-model.ts";

/**
 * Adds up the engine's per-file transfer events into one pass's progress (files and bytes), for the
 * status bar ("Syncing 3 files") and the progress notification. A pass ends when the engine is no longer
 * syncing; the next starts from zero. A download's size is not known while it runs (the engine reports
 * a total of -1): it counts as moving until the pass ends, and its bytes count as both done and total.
 */
export class TransferTracker {
  private files = new Map<string, { done: number; total: number | null }>();

  /** Records one event; the key includes the direction, as a file can go both ways in one pass. */
  record(event: FileTransfer): void {
    const key = `${event.direction}:${event.path}`;
    const before = this.files.get(key);
    const total = event.bytesTotal >= 0 ? event.bytesTotal : null;
    // Retries restart a chunk: the bar never goes back.
    const reported = total === null ? event.bytesDone : Math.min(event.bytesDone, total);
    this.files.set(key, { done: Math.max(before?.done ?? 0, reported), total });
  }

  /** Whether this event finished a file whose size is known (an upload's last chunk). */
  static completes(event: FileTransfer): boolean {
    return event.bytesTotal >= 0 && event.bytesDone >= event.bytesTotal;
  }

  /** The pass is over (idle, paused, offline, stopped). */
  reset(): void {
    this.files = new Map();
  }

  progress(): TransferProgress {
    let filesDone = 0;
    let bytesDone = 0;
    let bytesTotal = 0;
    let sizesKnown = true;
    for (const file of this.files.values()) {
      if (file.total !== null && file.done >= file.total) filesDone++;
      if (file.total === null) sizesKnown = false;
      bytesDone += file.done;
      bytesTotal += file.total ?? file.done;
    }
    return { filesDone, filesTotal: this.files.size, bytesDone, bytesTotal, sizesKnown };
  }

  /** Files still moving (downloads, whose end is not reported, until the pass ends). */
  active(): number {
    let count = 0;
    for (const file of this.files.values()) if (file.total === null || file.done < file.total) count++;
    return count;
  }
}
