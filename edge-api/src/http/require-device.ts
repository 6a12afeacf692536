import { ApiError } from "@wsync/shared-protocol";
import type { MiddlewareHandler } from "hono";
import type { Sql } from "postgres";
import { authenticateDevice } from "../device-auth.ts";
import type { AppEnv } from "./context.ts";

/** `Authorization: Bearer <token>` of a live device, or `unauthorized`. */
export function requireDevice(sql: Sql): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const device = match?.[1] ? await authenticateDevice(sql, match[1]) : null;
    if (!device) throw new ApiError("unauthorized", "a valid device token is required");
    c.set("auth", device);
    await next();
  };
}
