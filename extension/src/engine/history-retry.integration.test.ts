import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Devices, startDevices } from "./testing/devices.ts";

/** Restores whose answers get lost on the way back: the request reached the server, the reply did not. */
const lostRestoreAnswers = { remaining: 0 };

let world: Devices;
beforeAll(async () => {
  world = await startDevices(1, {
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const url = String(input);
      if (url.endsWith("/restore") && lostRestoreAnswers.remaining > 0) {
        lostRestoreAnswers.remaining--;
        throw new TypeError("fetch failed: connection reset after the request was sent");
      }
      return response;
    },
  });
}, 120_000);
afterAll(async () => {
  await world?.close();
});

describe("restore after a lost answer", () => {
  it("a restore retried after its answer was lost makes one version, not a conflict", async () => {
    const [a] = world.devices as [NonNullable<Devices["devices"][0]>];
    await a.write("retry.txt", "first");
    await world.settle();
    await a.write("retry.txt", "second");
    await world.settle();

    lostRestoreAnswers.remaining = 1;
    await a.engine.history.restore("retry.txt", 1);
    expect(lostRestoreAnswers.remaining).toBe(0);
    const versions = await a.engine.history.versions("retry.txt");
    expect(versions.map((v) => v.version)).toEqual([3, 2, 1]);
    await world.settle();
    expect(await a.read("retry.txt")).toBe("first");
  });

  it("bringing a deleted file back, retried after a lost answer, makes one version", async () => {
    const [a] = world.devices as [NonNullable<Devices["devices"][0]>];
    await a.write("gone.txt", "keep me");
    await world.settle();
    await a.remove("gone.txt");
    await world.settle();
    const deleted = a.engine.history.deleted().find((file) => file.path === "gone.txt");
    expect(deleted).toBeDefined();

    lostRestoreAnswers.remaining = 1;
    await a.engine.history.restoreDeleted(deleted?.fileId as string);
    expect(lostRestoreAnswers.remaining).toBe(0);
    const versions = await a.engine.history.versions(deleted?.fileId as string);
    expect(versions.map((v) => v.action)).toEqual(["created", "deleted", "created"]);
    await world.settle();
    expect(await a.read("gone.txt")).toBe("keep me");
  });
});
