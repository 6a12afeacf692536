import { formatBytes, plural } from "./format.ts";

/** A sync pass's transfer so far: files and bytes, up and down together. */
export interface TransferProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** False while a download of unknown size runs: then there is no percentage to show. */
  sizesKnown?: boolean;
}

/**
 * Small transfers only spin the status bar; a long one (many bytes or many files) also gets a progress
 * notification with Cancel. The thresholds are what takes more than a moment on a home connection.
 */
export const LONG_TRANSFER = { bytes: 8 * 1024 * 1024, files: 50 } as const;

export function isLongTransfer(progress: TransferProgress): boolean {
  return progress.bytesTotal >= LONG_TRANSFER.bytes || progress.filesTotal >= LONG_TRANSFER.files;
}

/** "3 of 10 files · 1.2 MB of 5.0 MB" (or "· 1.2 MB so far" when sizes are not known yet). */
export function progressMessage(progress: TransferProgress): string {
  const files =
    progress.filesTotal === 1 ? "1 file" : `${progress.filesDone} of ${plural(progress.filesTotal, "file")}`;
  if (progress.sizesKnown === false) return `${files} · ${formatBytes(progress.bytesDone)} so far`;
  return `${files} · ${formatBytes(progress.bytesDone)} of ${formatBytes(progress.bytesTotal)}`;
}

/**
 * `withProgress` takes increments, not totals: the percentage points gained since the last report, by
 * bytes (files when there are no bytes to count). Never negative: a retried chunk must not move it back.
 */
export function progressIncrement(reportedPercent: number, progress: TransferProgress): number {
  if (progress.sizesKnown === false) return 0;
  const percent = percentDone(progress);
  return Math.max(0, percent - reportedPercent);
}

export function percentDone(progress: TransferProgress): number {
  const [done, total] =
    progress.bytesTotal > 0
      ? [progress.bytesDone, progress.bytesTotal]
      : [progress.filesDone, progress.filesTotal];
  if (total <= 0) return 0;
  return Math.min(100, (Math.max(0, done) / total) * 100);
}
