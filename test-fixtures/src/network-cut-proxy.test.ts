import { once } from "node:events";
import { createServer as createHttpServer, type Server } from "node:http";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createNetworkCut, type NetworkCut } from "./network-cut-proxy.ts";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function httpServer(): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server: Server = createHttpServer((request, response) => {
    requests.push(`${request.method} ${request.url} host=${request.headers.host}`);
    response.end(`answer to ${request.url}`);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function cut(): NetworkCut {
  const network = createNetworkCut();
  closers.push(() => network.close());
  return network;
}

/** A raw TCP client through the proxy, with what it received and whether the far side closed. */
async function rawClient(port: number) {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  const seen = { bytes: "", ended: false, failed: "" };
  socket.on("data", (chunk) => {
    seen.bytes += chunk.toString();
  });
  socket.on("end", () => {
    seen.ended = true;
  });
  socket.on("error", (error: NodeJS.ErrnoException) => {
    seen.failed = error.code ?? error.message;
  });
  closers.push(async () => {
    socket.destroy();
  });
  return { socket, seen };
}

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
};
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("network cut proxy", () => {
  it("passes requests and answers through untouched, Host header included", async () => {
    const server = await httpServer();
    const network = cut();
    const route = await network.route(server.url);
    expect(route.url).toBe(`http://127.0.0.1:${route.port}`);
    const answer = await fetch(`${route.url}/hello?x=1`);
    expect(await answer.text()).toBe("answer to /hello?x=1");
    expect(server.requests).toEqual([`GET /hello?x=1 host=127.0.0.1:${route.port}`]);
  });

  it("refuse resets open connections and refuses new ones; restore serves the same URL again", async () => {
    const server = await httpServer();
    const network = cut();
    const route = await network.route(server.url);
    const open = await rawClient(route.port);
    open.socket.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => open.seen.bytes.includes("answer to /a"));

    await network.refuse();
    await until(() => open.seen.failed !== "" || open.seen.ended);
    expect(open.seen.failed).toBe("ECONNRESET");
    await expect(fetch(`${route.url}/b`)).rejects.toMatchObject({ cause: { code: "ECONNREFUSED" } });
    expect(server.requests).toHaveLength(1);

    await network.restore();
    expect(await (await fetch(`${route.url}/c`)).text()).toBe("answer to /c");
  });

  it("blackhole holds requests without an answer or an error, and delivers them once restored", async () => {
    const server = await httpServer();
    const network = cut();
    const route = await network.route(server.url);
    network.blackhole();
    let settled = false;
    const pending = fetch(`${route.url}/held`).then(async (answer) => {
      settled = true;
      return answer.text();
    });
    pending.catch(() => {
      settled = true;
    });
    await pause(300);
    expect(settled).toBe(false);
    expect(server.requests).toEqual([]);
    expect(network.openConnections()).toBe(1);

    await network.restore();
    expect(await pending).toBe("answer to /held");
    expect(server.requests).toHaveLength(1);
  });

  it("blackhole passes no byte and no close on a connection already open; restore delivers both", async () => {
    // A server that answers one line, then closes: what a notifier reaping a dead socket does.
    const server = createServer((socket: Socket) => {
      socket.once("data", () => socket.end("bye\n"));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const network = cut();
    const route = await network.route(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const client = await rawClient(route.port);

    network.blackhole();
    client.socket.write("hello\n");
    await pause(300);
    expect(client.seen).toEqual({ bytes: "", ended: false, failed: "" });

    await network.restore();
    await until(() => client.seen.ended);
    expect(client.seen.bytes).toBe("bye\n");
  });

  it("a connection opened during a blackhole reaches the server only after restore", async () => {
    const server = await httpServer();
    const network = cut();
    const route = await network.route(server.url);
    network.blackhole();
    const client = await rawClient(route.port);
    client.socket.write("GET /late HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await pause(300);
    expect(server.requests).toEqual([]);
    await network.restore();
    await until(() => client.seen.ended);
    expect(client.seen.bytes).toContain("answer to /late");
  });
});
