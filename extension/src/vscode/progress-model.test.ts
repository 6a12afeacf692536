import { describe, expect, it } from "vitest";
import { isLongTransfer, percentDone, progressIncrement, progressMessage } from "./progress-model.ts";

const MB = 1024 * 1024;

describe("transfer progress", () => {
  it("shows a notification only for long transfers", () => {
    expect(isLongTransfer({ filesDone: 0, filesTotal: 3, bytesDone: 0, bytesTotal: 100 })).toBe(false);
    expect(isLongTransfer({ filesDone: 0, filesTotal: 1, bytesDone: 0, bytesTotal: 50 * MB })).toBe(true);
    expect(isLongTransfer({ filesDone: 0, filesTotal: 200, bytesDone: 0, bytesTotal: 10 })).toBe(true);
  });

  it("says files and bytes", () => {
    expect(progressMessage({ filesDone: 3, filesTotal: 10, bytesDone: 1.5 * MB, bytesTotal: 5 * MB })).toBe(
      "3 of 10 files · 1.5 MB of 5.0 MB",
    );
    expect(progressMessage({ filesDone: 0, filesTotal: 1, bytesDone: 0, bytesTotal: 2048 })).toBe(
      "1 file · 0 B of 2.0 KB",
    );
  });

  it("reports increments that add up to the share of bytes done, never going back", () => {
    let reported = 0;
    const steps = [10, 40, 35, 100].map((mb) => ({
      filesDone: 0,
      filesTotal: 2,
      bytesDone: mb * MB,
      bytesTotal: 100 * MB,
    }));
    const increments = steps.map((step) => {
      const increment = progressIncrement(reported, step);
      reported += increment;
      return increment;
    });
    expect(increments).toEqual([10, 30, 0, 60]);
    expect(reported).toBe(100);
  });

  it("shows bytes so far and no percentage while a download's size is unknown", () => {
    const progress = {
      filesDone: 0,
      filesTotal: 2,
      bytesDone: 3 * MB,
      bytesTotal: 3 * MB,
      sizesKnown: false,
    };
    expect(progressMessage(progress)).toBe("0 of 2 files · 3.0 MB so far");
    expect(progressIncrement(0, progress)).toBe(0);
  });

  it("counts files when there are no bytes (deletes, renames)", () => {
    expect(percentDone({ filesDone: 1, filesTotal: 4, bytesDone: 0, bytesTotal: 0 })).toBe(25);
    expect(percentDone({ filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 })).toBe(0);
  });
});
