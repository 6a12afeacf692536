/** Bytes and chunks moved, counted where they are sent and received: tests assert on these. */
export class TransferStats {
  bytesUploaded = 0;
  chunksUploaded = 0;
  bytesDownloaded = 0;
  chunksDownloaded = 0;
  /** Chunks taken from local files instead of the network. */
  chunksReused = 0;

  snapshot() {
    return {
      bytesUploaded: this.bytesUploaded,
      chunksUploaded: this.chunksUploaded,
      bytesDownloaded: this.bytesDownloaded,
      chunksDownloaded: this.chunksDownloaded,
      chunksReused: this.chunksReused,
    };
  }
}

export type TransferSnapshot = ReturnType<TransferStats["snapshot"]>;

/** Progress of one file's transfer, for the user's progress display. */
export interface TransferProgress {
  direction: "upload" | "download";
  path: string;
  bytesDone: number;
  bytesTotal: number;
}
