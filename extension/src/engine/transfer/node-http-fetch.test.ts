import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeHttpFetch } from "./node-http-fetch.ts";

const big = randomBytes(3 * 1024 * 1024 + 17);
let server: Server;
let base: string;
let received: { method: string; bytes: number; sha256: string; contentLength: string | undefined } | null;

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? "/", "http://x");
  if (url.pathname === "/big") {
    response.writeHead(200, { "content-length": big.length, "x-kind": "big" }).end(big);
  } else if (url.pathname === "/upload") {
    const digest = createHash("sha256");
    let bytes = 0;
    for await (const piece of request) {
      digest.update(piece as Buffer);
      bytes += (piece as Buffer).length;
    }
    received = {
      method: request.method ?? "",
      bytes,
      sha256: digest.digest("hex"),
      contentLength: request.headers["content-length"],
    };
    response.writeHead(204).end();
  } else if (url.pathname === "/moved") {
    response.writeHead(302, { location: "/big" }).end();
  } else if (url.pathname === "/stall") {
    // Half a body, then silence: only an abort ends the wait.
    response.writeHead(200, { "content-length": 1000 });
    response.write(Buffer.alloc(500));
  } else if (url.pathname === "/short") {
    // Promises more than it sends, then drops the connection.
    response.writeHead(200, { "content-length": 1000 });
    response.write(Buffer.alloc(10), () => response.socket?.destroy());
  } else {
    response.writeHead(404).end("missing");
  }
}

beforeAll(async () => {
  server = createServer((request, response) => void handle(request, response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function readAll(response: Response): Promise<Buffer> {
  return Buffer.from(await response.arrayBuffer());
}

describe("nodeHttpFetch", () => {
  it("streams an answer's body whole, with its status and headers", async () => {
    const response = await nodeHttpFetch(`${base}/big`, { method: "GET" });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-kind")).toBe("big");
    expect((await readAll(response)).equals(big)).toBe(true);
  });

  it("sends a streamed body of declared length intact, even when the stream reuses its buffer", async () => {
    // One buffer refilled for every piece, only when the next is asked for (no read-ahead): a piece
    // the client still held in a queue when it asked for the next would arrive overwritten.
    const piece = new Uint8Array(64 * 1024);
    let offset = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (offset >= big.length) return controller.close();
          const n = Math.min(piece.length, big.length - offset);
          piece.set(big.subarray(offset, offset + n));
          offset += n;
          controller.enqueue(piece.subarray(0, n));
        },
      },
      { highWaterMark: 0 },
    );
    received = null;
    const response = await nodeHttpFetch(`${base}/upload`, {
      method: "PUT",
      headers: { "content-length": String(big.length) },
      body,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(204);
    expect(received).toEqual({
      method: "PUT",
      bytes: big.length,
      sha256: createHash("sha256").update(big).digest("hex"),
      contentLength: String(big.length),
    });
  });

  it("does not follow a redirect: the 3xx is the answer", async () => {
    const response = await nodeHttpFetch(`${base}/moved`, { method: "GET" });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/big");
  });

  it("an abort before the answer rejects with the signal's reason", async () => {
    const controller = new AbortController();
    const reason = new Error("stop now");
    const pending = nodeHttpFetch(`${base}/stall-before`, { method: "GET", signal: controller.signal });
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it("an abort in the middle of a body errors the body with the signal's reason", async () => {
    const controller = new AbortController();
    const reason = new Error("idle");
    const response = await nodeHttpFetch(`${base}/stall`, { method: "GET", signal: controller.signal });
    const reading = readAll(response);
    setTimeout(() => controller.abort(reason), 50);
    await expect(reading).rejects.toBe(reason);
  });

  it("a body cut short by the server is an error, not a short answer", async () => {
    const response = await nodeHttpFetch(`${base}/short`, { method: "GET" });
    await expect(readAll(response)).rejects.toThrow();
  });

  it("a refused connection rejects", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(nodeHttpFetch(`http://127.0.0.1:${port}/`, { method: "GET" })).rejects.toThrow();
  });
});
