import { randomUUID } from "node:crypto";
import { ApiClient } from "@wsync/shared-protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KillableStack, startKillableStack } from "./killable-stack.ts";

// The stack suite's kill matrix once ended with every device offline: the edge API had died when
// PostgreSQL was killed under it. postgres.js 3.4.9 defers small writes to a setImmediate that ran after
// the connection closed and threw outside any promise (patched in patches/postgres+3.4.9.patch). Here
// PostgreSQL is killed four times under a busy edge API, which must stay up and serve again.

let stack: KillableStack;
beforeAll(async () => {
  stack = await startKillableStack();
}, 300_000);
afterAll(async () => {
  await stack?.close();
}, 120_000);

describe("the edge API when PostgreSQL is killed under load", () => {
  it("stays up through every kill -9 and serves writes again once PostgreSQL is back", async () => {
    const session = await new ApiClient({ baseUrl: stack.apiUrl }).register({
      email: `survivor-${randomUUID()}@example.com`,
      password: "correct horse battery",
      deviceName: "load",
    });
    const api = new ApiClient({ baseUrl: stack.apiUrl, token: session.token });
    const folder = () => ({ parentId: null, name: `f-${randomUUID()}`, isFolder: true });
    let running = true;
    let served = 0;
    // Small writes in flight on every pooled connection when PostgreSQL goes.
    const load = (async () => {
      while (running) {
        await Promise.all(
          Array.from({ length: 8 }, () =>
            api.createFile(folder()).then(
              () => served++,
              () => {},
            ),
          ),
        );
      }
    })();
    try {
      for (let round = 0; round < 4; round++) {
        const before = served;
        while (served < before + 20) await new Promise((resolve) => setTimeout(resolve, 50));
        await stack.kill("postgres");
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await stack.restart("postgres");
        const alive = await fetch(`${stack.apiUrl}/healthz`).then(
          () => true,
          () => false,
        );
        expect(alive, `the edge API process after kill ${round + 1}`).toBe(true);
        // The pool reconnects on its own: a write goes through again.
        const deadline = Date.now() + 60_000;
        let written = false;
        while (!written && Date.now() < deadline) {
          written = await api.createFile(folder()).then(
            () => true,
            () => false,
          );
          if (!written) await new Promise((resolve) => setTimeout(resolve, 250));
        }
        expect(written, `a write after kill ${round + 1}`).toBe(true);
      }
    } finally {
      running = false;
      await load;
    }
  }, 600_000);
});
