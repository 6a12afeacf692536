import { describe, expect, it } from "vitest";
import { type ChunkHash, chunkHashFromDigest } from "./chunk-hash.ts";
import {
  ApiClient,
  type FetchLike,
  isRetryable,
  NetworkError,
  ProtocolError,
  retryAfterMs,
} from "./client.ts";
import { ApiError, isApiError } from "./errors.ts";

interface Seen {
  url: string;
  method: string;
  headers: Headers;
  body: unknown;
}

/** A fake at the network edge: records each request and answers with the given response. */
function fakeFetch(answer: (seen: Seen) => Response | Promise<Response>): { fetch: FetchLike; seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    seen,
    fetch: async (input, init) => {
      const request: Seen = {
        url: input,
        method: init.method ?? "GET",
        headers: new Headers(init.headers),
        body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
      };
      seen.push(request);
      return answer(request);
    },
  };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

const hash = chunkHashFromDigest(new Uint8Array(32).fill(7)) as ChunkHash;
const receipt = { fileId: "f1", version: 2, updatedAt: "2026-03-15T09:22:10Z" };

describe("ApiClient", () => {
  it("sends the bearer token, the JSON body and the idempotency key, and parses the receipt", async () => {
    const { fetch, seen } = fakeFetch(() => json(200, receipt));
    const client = new ApiClient({ baseUrl: "http://api.test/", token: "t0k", fetch });
    const answer = await client.commit(
      "f 1",
      { version: 2, chunks: [hash] },
      { idempotencyKey: "key-12345" },
    );
    expect(answer).toEqual(receipt);
    expect(seen[0]?.url).toBe("http://api.test/api/v1/files/f%201/commit");
    expect(seen[0]?.method).toBe("POST");
    expect(seen[0]?.headers.get("authorization")).toBe("Bearer t0k");
    expect(seen[0]?.headers.get("idempotency-key")).toBe("key-12345");
    expect(seen[0]?.body).toEqual({ version: 2, chunks: [hash] });
  });

  it("sends no token to register and login", async () => {
    const session = { userId: "u", deviceId: "d", token: "new" };
    const { fetch, seen } = fakeFetch(() => json(201, session));
    const client = new ApiClient({ baseUrl: "http://api.test", token: "old", fetch });
    await expect(
      client.register({ email: "a@b.co", password: "x".repeat(8), deviceName: "laptop" }),
    ).resolves.toEqual(session);
    await client.login({ email: "a@b.co", password: "pw", deviceName: "laptop" });
    expect(seen.map((s) => s.headers.get("authorization"))).toEqual([null, null]);
    expect(client.withToken("new").token).toBe("new");
  });

  it("turns an error envelope into an ApiError with code, status and details", async () => {
    const { fetch } = fakeFetch(() =>
      json(409, { error: { code: "version_conflict", message: "stale", details: { currentVersion: 7 } } }),
    );
    const client = new ApiClient({ baseUrl: "http://api.test", token: "t", fetch });
    const error = await client.commit("f1", { version: 7, chunks: [] }).catch((e: unknown) => e);
    expect(isApiError(error, "version_conflict")).toBe(true);
    expect((error as ApiError).status).toBe(409);
    expect((error as ApiError).details).toEqual({ currentVersion: 7 });
    expect(isRetryable(error)).toBe(false);
  });

  it("carries Retry-After of a rate_limited answer into the details", async () => {
    const { fetch } = fakeFetch(() =>
      json(429, { error: { code: "rate_limited", message: "slow down" } }, { "retry-after": "3" }),
    );
    const client = new ApiClient({ baseUrl: "http://api.test", token: "t", fetch });
    const error = await client.me().catch((e: unknown) => e);
    expect(isApiError(error, "rate_limited")).toBe(true);
    expect(retryAfterMs(error)).toBe(3000);
    expect(isRetryable(error)).toBe(true);
  });

  it("reports a failed connection as a NetworkError, not an ApiError", async () => {
    const client = new ApiClient({
      baseUrl: "http://api.test",
      fetch: () => Promise.reject(new TypeError("fetch failed")),
    });
    const error = await client.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).not.toBeInstanceOf(ApiError);
    expect(isRetryable(error)).toBe(true);
  });

  it("reports a real refused connection as a NetworkError", async () => {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const client = new ApiClient({ baseUrl: "http://127.0.0.1:1" });
    await expect(client.me()).rejects.toBeInstanceOf(NetworkError);
  });

  it("refuses an answer that does not match the contract's schema", async () => {
    const { fetch } = fakeFetch(() => json(200, { fileId: "f1", version: "two" }));
    const client = new ApiClient({ baseUrl: "http://api.test", token: "t", fetch });
    const error = await client.getFile("f1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
  });

  it("reports a non-envelope error page (a proxy's 502) as a retryable ProtocolError", async () => {
    const { fetch } = fakeFetch(() => new Response("<html>bad gateway</html>", { status: 502 }));
    const client = new ApiClient({ baseUrl: "http://api.test", token: "t", fetch });
    const error = await client.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).status).toBe(502);
    expect(isRetryable(error)).toBe(true);
  });

  it("builds the query of changes, delete and poll, and accepts a 204 for revoke", async () => {
    const { fetch, seen } = fakeFetch((request) => {
      if (request.method === "DELETE" && request.url.includes("/devices/"))
        return new Response(null, { status: 204 });
      if (request.url.includes("/poll")) return json(200, { changed: false, syncToken: "c1.5" });
      if (request.method === "DELETE") return json(200, receipt);
      return json(200, { changes: [], syncToken: "c1.5", hasMore: false });
    });
    const client = new ApiClient({
      baseUrl: "http://api.test",
      notifierUrl: "http://notify.test",
      token: "t",
      fetch,
    });
    await client.changes({ since: "c1.5", limit: 10 });
    await client.changes();
    await client.deleteFile("f1", 3);
    await client.revokeDevice("d1");
    await client.poll("c1.5", 1);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      "GET http://api.test/api/v1/files/changes?since=c1.5&limit=10",
      "GET http://api.test/api/v1/files/changes",
      "DELETE http://api.test/api/v1/files/f1?version=3",
      "DELETE http://api.test/api/v1/devices/d1",
      "GET http://notify.test/poll?since=c1.5&timeout=1",
    ]);
  });

  it("parses the batch upload-url answer in request order", async () => {
    const results = [{ chunkHash: hash, uploadUrl: null, chunkId: "c1", exists: true }];
    const { fetch, seen } = fakeFetch(() => json(200, { results }));
    const client = new ApiClient({ baseUrl: "http://api.test", token: "t", fetch });
    await expect(client.uploadUrls({ chunks: [{ chunkHash: hash, size: 5 }] })).resolves.toEqual({ results });
    expect(seen[0]?.url).toBe("http://api.test/api/v1/files/upload-urls");
  });
});
