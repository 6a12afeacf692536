import { ApiError } from "@wsync/shared-protocol";
import type { Context } from "hono";
import type { AppEnv, LogSink } from "./context.ts";

/**
 * The one place errors become responses. Contract errors go out as their envelope; anything else is
 * logged here (message and stack, server-side only) and answered as a bare 500 `internal`, so no SQL,
 * parameter or stack trace ever reaches a client.
 */
export function errorResponse(error: unknown, c: Context<AppEnv>, log: LogSink): Response {
  if (error instanceof ApiError) {
    const headers: Record<string, string> = {};
    const retryAfter = error.details?.retryAfterSeconds;
    if (error.code === "rate_limited" && typeof retryAfter === "number")
      headers["Retry-After"] = String(retryAfter);
    return c.json(error.toEnvelope(), error.status as 400, headers);
  }
  const e = error instanceof Error ? error : new Error(String(error));
  log({
    level: "error",
    msg: "unhandled error",
    requestId: c.get("requestId"),
    error: { name: e.name, message: e.message, code: (e as { code?: unknown }).code, stack: e.stack },
  });
  return c.json(new ApiError("internal", "internal server error").toEnvelope(), 500);
}

export function notFoundResponse(c: Context<AppEnv>): Response {
  return c.json(new ApiError("not_found", `no route for ${c.req.method} ${c.req.path}`).toEnvelope(), 404);
}
