import { afterEach, describe, expect, it } from "vitest";
import { run } from "./scaled-api.ts";

const before = process.env.BENCH_STACK;
afterEach(() => {
  if (before === undefined) delete process.env.BENCH_STACK;
  else process.env.BENCH_STACK = before;
});

describe("scaled-api in the suite", () => {
  it("is skipped with the reason, not failed, when the suite runs without the real services", async () => {
    process.env.BENCH_STACK = "local";
    const result = await run();
    expect(result.id).toBe("scaled-api");
    expect(result.rows).toEqual([]);
    expect(result.problems?.[0]).toMatch(
      /^skipped: BENCH_STACK=local: the scaled stack needs the real services/,
    );
    expect(result.setup).toMatch(/^Not measured: /);
  });
});
