import type { AddressInfo } from "node:net";
import { ApiClient, WS_CLOSE_UNAUTHORIZED } from "@wsync/shared-protocol";
import { createNetworkCut } from "@wsync/test-fixtures";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { NotifierClient } from "./notifier-client.ts";

const servers: WebSocketServer[] = [];
const clients: NotifierClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.stop();
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

async function server(onConnection: (socket: import("ws").WebSocket, auth: string | undefined) => void) {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  servers.push(wss);
  await new Promise((resolve) => wss.once("listening", resolve));
  wss.on("connection", (socket, request) => onConnection(socket, request.headers.authorization));
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`;
}

function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error("timed out"));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

const api = (fetch?: ConstructorParameters<typeof ApiClient>[0]["fetch"]) =>
  new ApiClient({
    baseUrl: "http://api.test",
    notifierUrl: "http://notifier.test",
    token: "t",
    ...(fetch ? { fetch } : {}),
  });

describe("NotifierClient", () => {
  it("sends the bearer token, reports changes, and reconnects (catching up) after the server drops it", async () => {
    let connections = 0;
    const auth: Array<string | undefined> = [];
    const url = await server((socket, authorization) => {
      connections++;
      auth.push(authorization);
      socket.send(JSON.stringify({ type: "hello", syncToken: "c1.1" }));
      if (connections === 1) {
        socket.send(
          JSON.stringify({
            type: "changed",
            fileId: "f",
            version: 2,
            action: "modified",
            deviceId: "d",
            syncToken: "c1.2",
          }),
        );
        setTimeout(() => socket.terminate(), 20);
      }
    });
    const reasons: string[] = [];
    const client = new NotifierClient({
      webSocketUrl: url,
      token: "secret",
      api: api(),
      syncToken: () => "c1.1",
      onChange: (reason) => void reasons.push(reason),
      onUnauthorized: () => {},
      maxBackoffMs: 50,
    });
    clients.push(client);
    client.start();
    await waitFor(() => connections >= 2 && reasons.filter((r) => r === "hello").length >= 2);
    expect(reasons.slice(0, 2)).toEqual(["hello", "changed"]);
    expect(auth[0]).toBe("Bearer secret");
  });

  it("stops for good when the server closes with 4401 (a revoked device)", async () => {
    let connections = 0;
    const url = await server((socket) => {
      connections++;
      socket.close(WS_CLOSE_UNAUTHORIZED, "revoked");
    });
    let unauthorized = 0;
    const client = new NotifierClient({
      webSocketUrl: url,
      token: "revoked",
      api: api(),
      syncToken: () => null,
      onChange: () => {},
      onUnauthorized: () => void unauthorized++,
      maxBackoffMs: 20,
    });
    clients.push(client);
    client.start();
    await waitFor(() => unauthorized === 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(connections).toBe(1);
  });

  it("falls back to the long poll while the WebSocket keeps failing", async () => {
    const polled: string[] = [];
    const fetch = async (input: string) => {
      polled.push(input);
      await new Promise((resolve) => setTimeout(resolve, 20));
      return new Response(JSON.stringify({ changed: true, syncToken: "c1.9" }), { status: 200 });
    };
    const changes: string[] = [];
    const states: string[] = [];
    const client = new NotifierClient({
      webSocketUrl: "ws://127.0.0.1:1/ws", // nothing listens: every attempt fails
      token: "t",
      api: api(fetch),
      syncToken: () => "c1.5",
      onChange: (reason) => void changes.push(reason),
      onUnauthorized: () => {},
      onConnection: (state) => void states.push(state),
      pollAfterFailures: 2,
      maxBackoffMs: 20,
    });
    clients.push(client);
    client.start();
    await waitFor(() => changes.includes("poll"));
    expect(states).toContain("polling");
    expect(polled[0]).toBe("http://notifier.test/poll?since=c1.5&timeout=30");
  });

  it("drops a socket that stops answering pings (a dropped link sends no close) and reconnects once the link is back", async () => {
    let hellos = 0;
    const url = await server((socket) => {
      hellos++;
      socket.send(JSON.stringify({ type: "hello", syncToken: `c1.${hellos}` }));
    });
    const network = createNetworkCut();
    const route = await network.route(url);
    const states: string[] = [];
    const changes: string[] = [];
    const client = new NotifierClient({
      webSocketUrl: route.url,
      token: "t",
      api: api(),
      syncToken: () => null,
      onChange: (reason) => {
        changes.push(reason);
      },
      onUnauthorized: () => {},
      onConnection: (state) => states.push(state),
      pingIntervalMs: 100,
      maxBackoffMs: 200,
      pollAfterFailures: 1000,
    });
    clients.push(client);
    try {
      client.start();
      await waitFor(() => changes.length === 1);
      network.blackhole();
      await waitFor(() => states.includes("disconnected"));
      expect(states).toEqual(["connected", "disconnected"]);
      await network.restore();
      await waitFor(() => states.at(-1) === "connected" && changes.length >= 2);
      expect(changes.every((reason) => reason === "hello")).toBe(true);
    } finally {
      client.stop();
      await network.close();
    }
  });
});
