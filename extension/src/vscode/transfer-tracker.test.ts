import { describe, expect, it } from "vitest";
import { TransferTracker } from "./transfer-tracker.ts";

describe("TransferTracker", () => {
  it("adds up uploads' files and bytes", () => {
    const tracker = new TransferTracker();
    tracker.record({ direction: "upload", path: "a.bin", bytesDone: 10, bytesTotal: 100 });
    tracker.record({ direction: "upload", path: "b.bin", bytesDone: 50, bytesTotal: 50 });
    tracker.record({ direction: "upload", path: "a.bin", bytesDone: 60, bytesTotal: 100 });
    expect(tracker.progress()).toEqual({
      filesDone: 1,
      filesTotal: 2,
      bytesDone: 110,
      bytesTotal: 150,
      sizesKnown: true,
    });
    expect(tracker.active()).toBe(1);
  });

  it("counts a download of unknown size as moving until the pass ends, its bytes as done", () => {
    const tracker = new TransferTracker();
    tracker.record({ direction: "download", path: "big.iso", bytesDone: 4_000_000, bytesTotal: -1 });
    tracker.record({ direction: "download", path: "big.iso", bytesDone: 8_000_000, bytesTotal: -1 });
    expect(tracker.active()).toBe(1);
    expect(tracker.progress()).toEqual({
      filesDone: 0,
      filesTotal: 1,
      bytesDone: 8_000_000,
      bytesTotal: 8_000_000,
      sizesKnown: false,
    });
    tracker.reset();
    expect(tracker.active()).toBe(0);
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
    tracker.record({ direction: "download", path: "a", bytesDone: 0, bytesTotal: -1 });
    expect(tracker.progress().filesTotal).toBe(2);
    tracker.reset();
    expect(tracker.progress()).toEqual({
      filesDone: 0,
      filesTotal: 0,
      bytesDone: 0,
      bytesTotal: 0,
      sizesKnown: true,
    });
  });

  it("knows when an event finishes a file of known size", () => {
    expect(TransferTracker.completes({ direction: "upload", path: "a", bytesDone: 5, bytesTotal: 5 })).toBe(
      true,
    );
    expect(TransferTracker.completes({ direction: "upload", path: "a", bytesDone: 4, bytesTotal: 5 })).toBe(
      false,
    );
    expect(
      TransferTracker.completes({ direction: "download", path: "a", bytesDone: 5, bytesTotal: -1 }),
    ).toBe(false);
    expect(TransferTracker.completes({ direction: "upload", path: "e", bytesDone: 0, bytesTotal: 0 })).toBe(
      true,
    );
  });
});
