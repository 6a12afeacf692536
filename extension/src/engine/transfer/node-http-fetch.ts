import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import type { FetchLike } from "@wsync/shared-protocol";

/**
 * Bytes of an answer queued for a reader that is behind, before the socket is paused: about one socket
 * read; the kernel's receive buffer holds the rest. Every piece alive when V8 collects is kept a while
 * longer (issue 5's memory bound); 1 GiB big-file test, download peak RSS: 99-104 MiB with 256 KiB
 * queued, 98-99 MiB with 64 KiB (two runs each, a loaded machine: within the noise, not worse).
 */
const QUEUED_BYTES = 64 * 1024;

/**
 * The engine's HTTP client (API calls and chunk GETs/PUTs to presigned storage URLs) unless the
 * embedder gives one: node:http instead of the global fetch. Why (issue 5, a 5 GB file under about
 * 100 MB): Node's fetch parses HTTP in WebAssembly, and V8's optimizing tier-up of that parser took
 * ~25 MiB for a moment once the traffic started (seen with perf; gone with --liftoff-only), which set
 * the upload's peak; node:http parses natively (measured: 0.25 GiB upload peak 105-109 -> 95-97 MiB,
 * and ~10-20% less CPU). An answer is paused once QUEUED_BYTES wait for its reader.
 * Same contract as fetch for what the engine uses: status, headers, a streamed body, the abort signal
 * (rejects, or errors the body, with the signal's reason), a string, bytes or ReadableStream request
 * body (a stream with its length declared); no redirect is followed (a 3xx is answered as it is).
 */
export const nodeHttpFetch: FetchLike = (input, init) =>
  new Promise<Response>((resolve, reject) => {
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return reject(signal.reason);
    const url = new URL(input);
    const headers: OutgoingHttpHeaders = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const request = send(url, { method: init.method ?? "GET", headers });
    let settled = false;
    const fail = (error: unknown) => {
      request.destroy(error instanceof Error ? error : undefined);
      if (!settled) {
        settled = true;
        reject(error);
      }
    };
    const onAbort = () => fail(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    request.on("error", fail);
    request.on("response", (answer) => {
      settled = true;
      const status = answer.statusCode ?? 0;
      const nullBody = status === 204 || status === 304 || init.method === "HEAD";
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(answer.headers))
        if (value !== undefined)
          for (const each of Array.isArray(value) ? value : [value]) responseHeaders.append(name, each);
      if (nullBody) {
        answer.resume();
        signal?.removeEventListener("abort", onAbort);
      }
      try {
        resolve(
          new Response(nullBody ? null : bodyOf(answer, signal, onAbort), {
            status,
            statusText: answer.statusMessage ?? "",
            headers: responseHeaders,
          }),
        );
      } catch (error) {
        // A status fetch cannot represent (outside 200-599): a faulty server, answered as an error.
        answer.destroy();
        signal?.removeEventListener("abort", onAbort);
        reject(error);
      }
    });
    writeBody(request, init.body).catch(fail);
  });

function bodyOf(answer: IncomingMessage, signal: AbortSignal | undefined, onAbort: () => void) {
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const done = () => signal?.removeEventListener("abort", onAbort);
        answer.on("data", (piece: Buffer) => {
          controller.enqueue(new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) answer.pause();
        });
        answer.on("end", () => {
          done();
          controller.close();
        });
        // A cut connection or a short body ("aborted"), or the abort signal's reason.
        answer.on("error", (error) => {
          done();
          controller.error(signal?.aborted ? signal.reason : error);
        });
      },
      pull() {
        answer.resume();
      },
      cancel() {
        signal?.removeEventListener("abort", onAbort);
        answer.destroy();
      },
    },
    { highWaterMark: QUEUED_BYTES, size: (piece) => piece.byteLength },
  );
}

/**
 * Sends the body. A streamed one is written a piece at a time, the next read only once the previous
 * piece reached the socket: a body may reuse its pieces (the chunk PUT's range body does).
 */
async function writeBody(request: ReturnType<typeof httpRequest>, body: RequestInit["body"]): Promise<void> {
  if (body === undefined || body === null) {
    request.end();
    return;
  }
  if (typeof body === "string" || body instanceof Uint8Array) {
    request.end(body);
    return;
  }
  if (!(body instanceof ReadableStream)) throw new TypeError("nodeHttpFetch: unsupported body type");
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (request.destroyed) return;
      await new Promise<void>((resolve, reject) =>
        request.write(value, (error) => (error ? reject(error) : resolve())),
      );
    }
    request.end();
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  }
}
