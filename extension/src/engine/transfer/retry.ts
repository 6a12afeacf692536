import { isRetryable, retryAfterMs } from "@wsync/shared-protocol";
import pRetry from "p-retry";

export interface RetryOptions {
  retries?: number;
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Runs `fn` again on failures worth retrying (network trouble, 429, 5xx) with exponential backoff and
 * jitter; a `rate_limited` answer's Retry-After is waited out first. Anything else fails at once.
 */
export function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  return pRetry(fn, {
    retries: options.retries ?? 5,
    minTimeout: options.minTimeoutMs ?? 200,
    maxTimeout: options.maxTimeoutMs ?? 10_000,
    factor: 2,
    randomize: true,
    ...(options.signal ? { signal: options.signal } : {}),
    onFailedAttempt: async ({ error }) => {
      const wait = retryAfterMs(error);
      if (wait !== undefined) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 60_000)));
    },
    shouldRetry: ({ error }) => isRetryable(error) || isTransientStorageError(error),
  });
}

/** A PUT or GET to storage that failed in a way worth another try. */
export class StorageError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "StorageError";
  }
}

function isTransientStorageError(error: unknown): boolean {
  return error instanceof StorageError && (error.status === 0 || error.status === 429 || error.status >= 500);
}
