/** The figures of the notifier benchmark's Markdown table (notifier/src/bench/notifier-bench.ts). */
export interface NotifierFigures {
  mode: string;
  latencyP50: number;
  latencyP99: number;
  connections: number;
  perConnectionKiB: number;
  fanoutSockets: number;
  fanoutP50: number;
  fanoutP99: number;
}

function cells(output: string, starts: string): string {
  const line = output.split("\n").find((l) => l.startsWith(`| ${starts}`));
  if (!line) throw new Error(`the notifier benchmark printed no row starting "${starts}"`);
  return line;
}

function number(text: string, pattern: RegExp, what: string): number {
  const match = pattern.exec(text);
  if (!match) throw new Error(`no ${what} in "${text}"`);
  return Number(match[1]);
}

export function parseNotifierTable(output: string): NotifierFigures {
  const header = /^\| (.+?) \| figure \|$/m.exec(output);
  const latency = cells(output, "commit-to-WebSocket latency");
  const held = cells(output, "idle connections held");
  const memory = cells(output, "memory per idle connection");
  const fanout = cells(output, "fan-out of one change");
  return {
    mode: header?.[1] ?? "unknown",
    latencyP50: number(latency, /p50 ([\d.]+) ms/, "latency p50"),
    latencyP99: number(latency, /p99 ([\d.]+) ms/, "latency p99"),
    connections: number(held, /\| (\d+) \(/, "connection count"),
    perConnectionKiB: number(memory, /\| ([\d.-]+) KiB/, "memory per connection"),
    fanoutSockets: number(fanout, /to (\d+) sockets/, "fan-out size"),
    fanoutP50: number(fanout, /p50 ([\d.]+) ms/, "fan-out p50"),
    fanoutP99: number(fanout, /p99 ([\d.]+) ms/, "fan-out p99"),
  };
}
