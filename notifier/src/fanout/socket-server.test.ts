import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type BusEvent, encodeSyncToken, WS_CLOSE_UNAUTHORIZED } from "@wsync/shared-protocol";
import { afterEach, describe, expect, it } from "vitest";
import type { DeviceIdentity } from "../auth.ts";
import { silentLogger } from "../logger.ts";
import { TestClient, until } from "../testing/test-client.ts";
import { createSocketServer, type SocketServer, type SocketServerOptions } from "./socket-server.ts";
import { Subscribers } from "./subscribers.ts";

const devices: Record<string, DeviceIdentity> = {
  "token-alice-laptop": { userId: "alice", deviceId: "laptop" },
  "token-alice-desktop": { userId: "alice", deviceId: "desktop" },
  "token-bob-phone": { userId: "bob", deviceId: "phone" },
};

const change = (userId: string, sequence: number): BusEvent => ({
  type: "file_changed",
  userId,
  fileId: "0b6f7c1e-43f4-4b67-9d38-5cf1f7e7d0aa",
  version: sequence,
  action: "modified",
  deviceId: "laptop",
  syncToken: encodeSyncToken(sequence),
});

let running: { server: Server; sockets: SocketServer; subscribers: Subscribers; url: string } | undefined;
const clients: TestClient[] = [];

async function start(options: Partial<SocketServerOptions> = {}) {
  const subscribers = new Subscribers();
  const sockets = createSocketServer({
    subscribers,
    authenticate: async (token) => devices[token] ?? null,
    newestSyncToken: async (userId) => encodeSyncToken(userId === "alice" ? 41 : 7),
    logger: silentLogger,
    ...options,
  });
  const server = createServer();
  server.on("upgrade", (request, socket, head) => sockets.handleUpgrade(request, socket, head));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  running = { server, sockets, subscribers, url };
  return running;
}

function connect(token: string | null, options?: Parameters<typeof TestClient.connect>[2]) {
  const client = TestClient.connect(running?.url ?? "", token, options);
  clients.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  if (running) {
    await running.sockets.close();
    await new Promise((resolve) => running?.server.close(resolve));
    running = undefined;
  }
});

describe("WebSocket fan-out", () => {
  it("greets a device with hello and the newest sync token, whether the token is in the header or the query", async () => {
    await start();
    const byHeader = connect("token-alice-laptop");
    const byQuery = connect("token-bob-phone", { via: "query" });
    expect(await byHeader.received(1)).toEqual([{ type: "hello", syncToken: encodeSyncToken(41) }]);
    expect(await byQuery.received(1)).toEqual([{ type: "hello", syncToken: encodeSyncToken(7) }]);
  });

  it("closes with 4401 when the token is missing or unknown", async () => {
    await start();
    const missing = connect(null);
    const unknown = connect("token-nobody");
    expect((await missing.closed).code).toBe(WS_CLOSE_UNAUTHORIZED);
    expect((await unknown.closed).code).toBe(WS_CLOSE_UNAUTHORIZED);
    expect(missing.messages).toEqual([]);
  });

  it("pushes a change to every socket of its user and to no other user's", async () => {
    const { subscribers } = await start();
    const laptop = connect("token-alice-laptop");
    const desktop = connect("token-alice-desktop");
    const phone = connect("token-bob-phone");
    await Promise.all([laptop.received(1), desktop.received(1), phone.received(1)]);

    subscribers.dispatch(change("alice", 42));
    subscribers.dispatch(change("bob", 8));

    const [, aliceChange] = await laptop.received(2);
    expect(aliceChange).toMatchObject({
      type: "changed",
      syncToken: encodeSyncToken(42),
      deviceId: "laptop",
    });
    expect((await desktop.received(2))[1]).toEqual(aliceChange);
    expect((await phone.received(2))[1]).toMatchObject({ type: "changed", syncToken: encodeSyncToken(8) });
    expect(phone.messages).toHaveLength(2);
  });

  it("closes a revoked device's sockets with 4401 at once and leaves the user's other devices open", async () => {
    const { subscribers } = await start();
    const laptop = connect("token-alice-laptop");
    const desktop = connect("token-alice-desktop");
    await Promise.all([laptop.received(1), desktop.received(1)]);

    subscribers.dispatch({ type: "device_revoked", userId: "alice", deviceId: "laptop" });

    expect((await laptop.closed).code).toBe(WS_CLOSE_UNAUTHORIZED);
    subscribers.dispatch(change("alice", 42));
    expect((await desktop.received(2))[1]).toMatchObject({ type: "changed" });
  });

  it("reaps a connection that stops answering pings and keeps one that answers", async () => {
    const { sockets } = await start({ pingIntervalMs: 20 });
    const silent = connect("token-alice-laptop", { ws: { autoPong: false } });
    const answering = connect("token-alice-desktop");
    await Promise.all([silent.received(1), answering.received(1)]);

    const { code } = await silent.closed;
    expect(code).toBe(1006);
    await until(() => sockets.connectionCount === 1, "the server to forget the reaped socket");
    expect(answering.socket.readyState).toBe(answering.socket.OPEN);
  });

  it("drops a client that stops reading, while the others get every change", async () => {
    const { subscribers, sockets } = await start({ sendBufferLimitBytes: 64 * 1024 });
    const stalled = connect("token-alice-laptop");
    const reading = connect("token-alice-desktop");
    await Promise.all([stalled.received(1), reading.received(1)]);
    stalled.socket.pause();

    // Enough changes to fill the kernel's buffers for the stalled socket and then ours.
    let sent = 0;
    while (sockets.connectionCount === 2 && sent < 400_000) {
      for (let i = 0; i < 1000; i += 1) subscribers.dispatch(change("alice", 100 + sent++));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(sockets.connectionCount).toBe(1);
    const all = await reading.received(1 + sent);
    expect(all.at(-1)).toMatchObject({ syncToken: encodeSyncToken(100 + sent - 1) });
    await until(() => subscribers.count === 1, "the stalled subscriber to be removed");
  });
});
