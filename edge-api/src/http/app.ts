import { ApiError, limits, routes } from "@wsync/shared-protocol";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppDeps, AppEnv } from "./context.ts";
import { errorResponse, notFoundResponse } from "./errors.ts";
import { requestLog } from "./request-log.ts";
import { requireDevice } from "./require-device.ts";
import { accountRoutes, sessionRoutes } from "./routes/accounts.ts";
import { changeRoutes } from "./routes/changes.ts";
import { chunkRoutes } from "./routes/chunks.ts";
import { fileRoutes } from "./routes/files.ts";
import { healthRoutes } from "./routes/health.ts";
import { openApiRoutes } from "./routes/openapi.ts";

/** Paths under /api/v1 that need no token. */
const publicPaths = new Set<string>([routes.register, routes.login, routes.openapi]);

/**
 * The edge API as one fetch handler, built only from its dependencies; the Node and Deno entry
 * points just serve `app.fetch`.
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const authenticate = requireDevice(deps.sql);

  app.use(requestLog(deps.log, deps.clock));
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: limits.bodyMaxBytes,
      onError: (c) =>
        c.json(
          new ApiError("payload_too_large", `the body is over ${limits.bodyMaxBytes} bytes`, {
            maxBytes: limits.bodyMaxBytes,
          }).toEnvelope(),
          413,
        ),
    }),
  );
  app.use("/api/v1/*", (c, next) => (publicPaths.has(c.req.path) ? next() : authenticate(c, next)));

  app.route("/", healthRoutes(deps));
  app.route("/api/v1", openApiRoutes());
  app.route("/api/v1", sessionRoutes(deps));
  app.route("/api/v1", accountRoutes(deps));
  // Before the file routes: /files/changes and /files/upload-url(s) must not match /files/:fileId.
  app.route("/api/v1", changeRoutes(deps));
  app.route("/api/v1", chunkRoutes(deps));
  app.route("/api/v1", fileRoutes(deps));

  app.onError((error, c) => errorResponse(error, c, deps.log));
  app.notFound(notFoundResponse);
  return app;
}
