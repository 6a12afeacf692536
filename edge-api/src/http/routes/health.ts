import { ApiError } from "@wsync/shared-protocol";
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../context.ts";

/** `/healthz`: the process serves. `/readyz`: it can also reach PostgreSQL and the store. */
export function healthRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .get("/healthz", (c) => c.json({ status: "ok" }))
    .get("/readyz", async (c) => {
      const [database, storage] = await Promise.all([
        deps.sql`SELECT 1`.then(
          () => true,
          () => false,
        ),
        deps.storage.ping().catch(() => false),
      ]);
      if (!database || !storage) {
        throw new ApiError("service_unavailable", "not ready", { database, storage });
      }
      return c.json({ status: "ready", database, storage });
    });
}
