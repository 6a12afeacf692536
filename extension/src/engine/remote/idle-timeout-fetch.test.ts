import { once } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createNetworkCut } from "@wsync/test-fixtures";
import { afterEach, describe, expect, it } from "vitest";
import { IdleTimeoutError, withIdleTimeout } from "./idle-timeout-fetch.ts";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A server whose handler decides how (and whether) to answer. */
async function server(handle: (response: ServerResponse) => void): Promise<string> {
  const http = createServer((request, response) => {
    request.resume();
    request.on("end", () => handle(response));
  });
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  closers.push(async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

const fetchWithIdle = withIdleTimeout((input, init) => fetch(input, init), { idleMs: 200 });

describe("withIdleTimeout", () => {
  it("abandons a request whose answer never starts", async () => {
    const url = await server(() => {});
    await expect(fetchWithIdle(url, { method: "GET" })).rejects.toBeInstanceOf(IdleTimeoutError);
  });

  it("abandons an answer that stalls half way", async () => {
    const url = await server((response) => {
      response.writeHead(200, { "content-length": "10" });
      response.write("12345");
    });
    const response = await fetchWithIdle(url, { method: "GET" });
    await expect(response.arrayBuffer()).rejects.toBeInstanceOf(IdleTimeoutError);
  });

  it("lets a slow answer that keeps making progress finish, however long it takes in all", async () => {
    const url = await server((response) => {
      response.writeHead(200, { "content-length": "8" });
      let sent = 0;
      const tick = setInterval(() => {
        response.write(String(sent));
        if (++sent === 8) {
          clearInterval(tick);
          response.end();
        }
      }, 60);
    });
    const response = await fetchWithIdle(url, { method: "GET" });
    expect(await response.text()).toBe("01234567");
    expect(response.status).toBe(200);
  });

  it("a blackholed link (no bytes, no close) fails the request instead of hanging it; the caller's abort still works", async () => {
    const url = await server((response) => response.end("fine"));
    const network = createNetworkCut();
    closers.push(() => network.close());
    const route = await network.route(url);
    expect(await (await fetchWithIdle(route.url, { method: "PUT", body: new Uint8Array(100) })).text()).toBe(
      "fine",
    );
    network.blackhole();
    await expect(
      fetchWithIdle(route.url, { method: "PUT", body: new Uint8Array(100) }),
    ).rejects.toBeInstanceOf(IdleTimeoutError);
    const caller = new AbortController();
    const pending = fetchWithIdle(route.url, { method: "GET", signal: caller.signal });
    caller.abort(new Error("stopped by the engine"));
    await expect(pending).rejects.toThrow("stopped by the engine");
  });
});
