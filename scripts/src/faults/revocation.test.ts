import { ApiClient, ApiError } from "@wsync/shared-protocol";
import { startTestStack, type TestStack } from "@wsync/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";

// Revocation end to end: the edge API's DELETE /devices/{id} and the notifier, each in its real
// server on the run's PostgreSQL (and Kafka in the stack suite). The per-part tests are
// edge-api routes/accounts.test.ts and notifier start-notifier.test.ts.

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
}, 120_000);
afterAll(() => stack?.close());

interface Socket {
  frames: Array<Record<string, unknown>>;
  closed: Promise<number>;
  next(match: (frame: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  socket: WebSocket;
}

function open(token: string): Socket {
  const socket = new WebSocket(`${stack.notifierUrl.replace("http", "ws")}/ws`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const frames: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  socket.on("message", (data) => {
    frames.push(JSON.parse(String(data)) as Record<string, unknown>);
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<number>((resolve) => socket.on("close", (code) => resolve(code)));
  return {
    frames,
    closed,
    socket,
    async next(match) {
      for (;;) {
        const found = frames.find(match);
        if (found) return found;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe("a revoked device", () => {
  it("loses the API, its open WebSocket (4401), new WebSockets and the long poll at once; the other device keeps all", async () => {
    const anonymous = new ApiClient({ baseUrl: stack.apiUrl });
    const body = { email: `revoke-${crypto.randomUUID()}@example.com`, password: "correct horse battery" };
    const laptop = await anonymous.register({ ...body, deviceName: "laptop" });
    const desktop = await anonymous.login({ ...body, deviceName: "desktop" });
    const laptopApi = anonymous.withToken(laptop.token);
    const desktopApi = anonymous.withToken(desktop.token);
    const laptopSocket = open(laptop.token);
    const desktopSocket = open(desktop.token);
    const hello = await within(
      laptopSocket.next((f) => f.type === "hello"),
      20_000,
      "hello",
    );
    await within(
      desktopSocket.next((f) => f.type === "hello"),
      20_000,
      "hello",
    );

    await desktopApi.revokeDevice(laptop.deviceId);

    // The open socket is closed by the notifier (bounded wait, no polling of state).
    expect(await within(laptopSocket.closed, 20_000, "the revoked socket to close")).toBe(4401);
    const refused = await laptopApi.me().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe("unauthorized");
    const again = open(laptop.token);
    expect(await within(again.closed, 20_000, "a new socket to be refused")).toBe(4401);
    const poll = await fetch(`${stack.notifierUrl}/poll?since=${String(hello.syncToken)}&timeout=1`, {
      headers: { authorization: `Bearer ${laptop.token}` },
    });
    expect(poll.status).toBe(401);

    // The other device: API and notifications keep working.
    const folder = await desktopApi.createFile({ parentId: null, name: "still here", isFolder: true });
    const changed = await within(
      desktopSocket.next((f) => f.type === "changed" && f.fileId === folder.fileId),
      20_000,
      "the desktop's change frame",
    );
    expect(changed).toMatchObject({ deviceId: desktop.deviceId, version: 1 });
    expect(laptopSocket.frames.some((f) => f.type === "changed")).toBe(false);
    desktopSocket.socket.close();
  });
});
