import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type ChunkHasher, InlineHasher } from "./hasher.ts";
import { OnDemandHasher } from "./on-demand-hasher.ts";

/** Inline hashers that record their lives: how many were made, and which were closed. */
function tracked() {
  const made: Array<{ closed: boolean }> = [];
  const make = (): ChunkHasher => {
    const inner = new InlineHasher();
    const life = { closed: false };
    made.push(life);
    return {
      begin: () => inner.begin(),
      close: async () => {
        life.closed = true;
      },
    };
  };
  return { made, make };
}

async function digestOf(hasher: ChunkHasher, text: string): Promise<string> {
  const stream = hasher.begin();
  const bytes = new TextEncoder().encode(text);
  await stream.write(bytes, [bytes.length]);
  const [digest] = await stream.finish();
  return Buffer.from(digest as Uint8Array).toString("hex");
}

describe("OnDemandHasher", () => {
  it("makes a hasher for the first stream, drops it on release, and makes a new one when needed again", async () => {
    const { made, make } = tracked();
    const hasher = new OnDemandHasher(make);
    expect(made).toHaveLength(0);
    expect(await digestOf(hasher, "abc")).toBe(createHash("sha256").update("abc").digest("hex"));
    expect(await digestOf(hasher, "def")).toBe(createHash("sha256").update("def").digest("hex"));
    expect(made).toHaveLength(1);
    await hasher.release();
    expect(made[0]?.closed).toBe(true);
    await digestOf(hasher, "ghi");
    expect(made).toHaveLength(2);
    await hasher.close();
    expect(made[1]?.closed).toBe(true);
  });

  it("keeps the hasher while a stream is open, and lets go once it finished or was aborted", async () => {
    const { made, make } = tracked();
    const hasher = new OnDemandHasher(make);
    const open = hasher.begin();
    await hasher.release();
    expect(made[0]?.closed).toBe(false);
    await open.finish();
    await hasher.release();
    expect(made[0]?.closed).toBe(true);
    const aborted = hasher.begin();
    aborted.abort();
    aborted.abort();
    await hasher.release();
    expect(made[1]?.closed).toBe(true);
    expect(made).toHaveLength(2);
  });
});
