import type { MiddlewareHandler } from "hono";
import type { AppEnv, LogSink } from "./context.ts";

/**
 * One JSON line per request. Only the method, the path (never the query string or headers, where
 * tokens could travel), the matched route, the status, the time taken and who asked.
 */
export function requestLog(log: LogSink, clock: () => Date): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const requestId = c.req.header("x-request-id")?.slice(0, 64) || crypto.randomUUID();
    c.set("requestId", requestId);
    c.header("x-request-id", requestId);
    await next();
    const auth = c.get("auth");
    log({
      time: clock().toISOString(),
      level: c.res.status >= 500 ? "error" : "info",
      msg: "request",
      requestId,
      method: c.req.method,
      path: c.req.path,
      route: c.req.routePath,
      status: c.res.status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      ...(auth ? { userId: auth.userId, deviceId: auth.deviceId } : {}),
    });
  };
}

/** The default sink: stdout, which works the same on Node and Deno. */
export const stdoutLog = (line: Record<string, unknown>) => {
  console.log(JSON.stringify(line));
};
