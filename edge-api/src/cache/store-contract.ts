import { describe, expect, it } from "vitest";
import type { CacheStore } from "./cache-store.ts";

/** What every CacheStore must do, run against each implementation. */
export function describeCacheStoreContract(name: string, open: () => Promise<CacheStore>) {
  describe(`CacheStore contract: ${name}`, () => {
    const key = (what: string) => `wsync-test:{${crypto.randomUUID()}}:${what}`;

    it("sets: members added are members, removed ones are not, unknown keys have none", async () => {
      const store = await open();
      try {
        const k = key("set");
        expect(await store.areMembers(k, ["a", "b"])).toEqual([false, false]);
        await store.addMembers(k, ["a", "b", "c"], 60);
        expect(await store.areMembers(k, ["a", "x", "c"])).toEqual([true, false, true]);
        await store.removeMembers(k, ["a", "nothing"]);
        expect(await store.areMembers(k, ["a", "b"])).toEqual([false, true]);
        expect(await store.areMembers(k, [])).toEqual([]);
      } finally {
        await store.close();
      }
    });

    it("hashes: a field set is read back, other fields and keys are null, delete drops whole keys", async () => {
      const store = await open();
      try {
        const files = key("files");
        const set = key("set");
        await store.setField(files, "f1", '{"v":1}', 60);
        await store.setField(files, "f2", '{"v":2}', 60);
        await store.addMembers(set, ["a"], 60);
        expect(await store.getField(files, "f1")).toBe('{"v":1}');
        expect(await store.getField(files, "nope")).toBeNull();
        await store.delete([files, set, key("never-set")]);
        expect(await store.getField(files, "f2")).toBeNull();
        expect(await store.areMembers(set, ["a"])).toEqual([false]);
      } finally {
        await store.close();
      }
    });

    it("keys expire after their time to live", async () => {
      const store = await open();
      try {
        const k = key("ttl");
        await store.addMembers(k, ["a"], 1);
        expect(await store.areMembers(k, ["a"])).toEqual([true]);
        await new Promise((resolve) => setTimeout(resolve, 2_100));
        expect(await store.areMembers(k, ["a"])).toEqual([false]);
      } finally {
        await store.close();
      }
    });
  });
}
