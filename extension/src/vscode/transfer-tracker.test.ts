import { describe, expect, it } from "vitest";
import { TransferTracker } from "./transfer-tracker.ts";

describe("TransferTracker", () => {
  it("adds up files and bytes, up and down", () => {
    const tracker = new TransferTracker();
    tracker.record({ direction: "upload", path: "a.bin", bytesDone: 10, bytesTotal: 100 });
    tracker.record({ direction: "download", path: "b.bin", bytesDone: 50, bytesTotal: 50 });
    tracker.record({ direction: "upload", path: "a.bin", bytesDone: 60, bytesTotal: 100 });
    expect(tracker.progress()).toEqual({ filesDone: 1, filesTotal: 2, bytesDone: 110, bytesTotal: 150 });
    expect(tracker.active()).toBe(1);
  });

  it("never goes back when a chunk is retried", () => {
    const tracker = new TransferTracker();
    tracker.record({ direction: "upload", path: "a", bytesDone: 80, bytesTotal: 100 });
    tracker.record({ direction: "upload", path: "a", bytesDone: 40, bytesTotal: 100 });
    expect(tracker.progress().bytesDone).toBe(80);
  });

  it("counts a file going both ways twice, and starts from zero after a reset", () => {
    const tracker = new TransferTracker();
    tracker.record({ direction: "upload", path: "a", bytesDone: 0, bytesTotal: 5 });
    tracker.record({ direction: "download", path: "a", bytesDone: 0, bytesTotal: 5 });
    expect(tracker.progress().filesTotal).toBe(2);
    tracker.reset();
    expect(tracker.progress()).toEqual({ filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 });
  });

  it("treats an empty file as done", () => {
    const tracker = new TransferTracker();
    tracker.record({ direction: "download", path: "empty", bytesDone: 0, bytesTotal: 0 });
    expect(tracker.active()).toBe(0);
  });
});
