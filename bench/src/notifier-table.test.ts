import { describe, expect, it } from "vitest";
import { parseNotifierTable } from "./notifier-table.ts";

const printed = `
| Kafka (127.0.0.1:35145) | figure |
| --- | --- |
| commit-to-WebSocket latency, 1 socket, 1000 changes one at a time | p50 3.30 ms, p99 33.78 ms, max 112.85 ms |
| idle connections held by the notifier process | 10000 (opened in 9.7 s, 200 at a time) |
| notifier RSS before / after | 128 MiB / 176 MiB |
| memory per idle connection (RSS delta / connections) | 4.9 KiB |
| fan-out of one change to 1000 sockets of one user (commit to last frame), 30 rounds | p50 43.65 ms, p99 96.47 ms |
`;

describe("parseNotifierTable", () => {
  it("reads every figure of the notifier benchmark's table", () => {
    expect(parseNotifierTable(printed)).toEqual({
      mode: "Kafka (127.0.0.1:35145)",
      latencyP50: 3.3,
      latencyP99: 33.78,
      connections: 10_000,
      perConnectionKiB: 4.9,
      fanoutSockets: 1000,
      fanoutP50: 43.65,
      fanoutP99: 96.47,
    });
  });

  it("fails loudly when a row is missing, rather than reporting a zero", () => {
    expect(() => parseNotifierTable(printed.replace(/\| fan-out.*\n/, ""))).toThrow(/fan-out of one change/);
  });
});
