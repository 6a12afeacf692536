import { expect, it } from "vitest";
import { createMemoryStore } from "./memory-store.ts";
import { describeCacheStoreContract } from "./store-contract.ts";

describeCacheStoreContract("in-process", async () => createMemoryStore());

it("the in-process store keeps at most maxKeys keys, dropping the least recently used", async () => {
  const store = createMemoryStore({ maxKeys: 2 });
  await store.addMembers("a", ["1"], 60);
  await store.addMembers("b", ["1"], 60);
  await store.areMembers("a", ["1"]);
  await store.addMembers("c", ["1"], 60);
  expect(store.keys().sort()).toEqual(["a", "c"]);
});
