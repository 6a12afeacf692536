import { describe, expect, it } from "vitest";
import { parseRsyncStats } from "./rsync.ts";

const sample = `
Number of files: 2 (reg: 1, dir: 1)
Number of regular files transferred: 1
Total file size: 536,870,912 bytes
Literal data: 23,140 bytes
Matched data: 536,847,772 bytes
Total bytes sent: 2,123,456
Total bytes received: 190,006
`;

describe("parseRsyncStats", () => {
  it("reads literal data and bytes sent, thousands separators and all", () => {
    expect(parseRsyncStats(sample)).toEqual({ literalBytes: 23_140, sentBytes: 2_123_456 });
  });

  it("refuses output without the figures rather than reporting zero", () => {
    expect(() => parseRsyncStats("sent 10 bytes  received 20 bytes")).toThrow(/Literal data/);
  });
});
