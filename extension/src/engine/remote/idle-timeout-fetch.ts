import type { FetchLike } from "@wsync/shared-protocol";

export interface IdleTimeoutOptions {
  /** No byte of the answer for this long: the request is abandoned. */
  idleMs: number;
  /**
   * The slowest upload still counted as progress, in bytes per second: before the answer starts, a
   * request with a body gets `idleMs` plus its body's length at this rate (a 16 MiB chunk on a slow
   * uplink is not a dead connection).
   */
  minBytesPerSecond?: number;
}

/** Why a transfer was abandoned: it made no progress (a dropped link sends no error, only silence). */
export class IdleTimeoutError extends Error {
  constructor(ms: number) {
    super(`no progress for ${ms} ms`);
    this.name = "IdleTimeoutError";
  }
}

/**
 * Chunk PUTs and GETs have no overall deadline (a big chunk on a slow link takes long), but a dead link
 * must not hang a sync round forever: the request is aborted once it makes no progress for a while.
 */
export function withIdleTimeout(fetchImpl: FetchLike, options: IdleTimeoutOptions): FetchLike {
  const rate = options.minBytesPerSecond ?? 16 * 1024;
  return async (input, init) => {
    const idle = new AbortController();
    const signal = init.signal ? AbortSignal.any([init.signal, idle.signal]) : idle.signal;
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => idle.abort(new IdleTimeoutError(ms)), ms);
      timer.unref?.();
    };
    arm(options.idleMs + Math.ceil((bodyLength(init) / rate) * 1000));
    let response: Response;
    try {
      response = await fetchImpl(input, { ...init, signal });
    } catch (error) {
      clearTimeout(timer);
      throw error;
    }
    if (!response.body) {
      clearTimeout(timer);
      return response;
    }
    arm(options.idleMs);
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          arm(options.idleMs);
          controller.enqueue(chunk);
        },
        flush() {
          clearTimeout(timer);
        },
      }),
    );
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

function bodyLength(init: RequestInit): number {
  const body = init.body;
  if (body === undefined || body === null) return 0;
  if (typeof body === "string") return Buffer.byteLength(body);
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return body.byteLength;
  if (body instanceof Blob) return body.size;
  // A streamed body (a chunk read from disk as it is sent) declares its length in the header.
  const declared = Number(new Headers(init.headers).get("content-length"));
  return Number.isFinite(declared) ? declared : 0;
}
