import { ApiError, ChangesQuery, decodeSyncToken, encodeSyncToken } from "@wsync/shared-protocol";
import { Hono } from "hono";
import { touchDeviceSync } from "../../db/accounts.ts";
import { listChangesSince } from "../../db/changes.ts";
import type { AppDeps, AppEnv } from "../context.ts";
import { readQuery, validate } from "../json-body.ts";

/** `GET /files/changes`: the user's journal after a sync token, in commit order, paged. */
export function changeRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().get("/files/changes", async (c) => {
    const { userId, deviceId } = c.get("auth");
    const query = validate(ChangesQuery, readQuery(c), "query");
    let since = 0n;
    if (query.since !== undefined) {
      const decoded = decodeSyncToken(query.since);
      if (decoded === null) {
        throw new ApiError("validation_failed", "the sync token is not valid", {
          issues: [{ path: ["since"], message: "unknown sync token" }],
        });
      }
      since = decoded;
    }
    const page = await listChangesSince(deps.sql, userId, since, query.limit);
    await touchDeviceSync(deps.sql, userId, deviceId, deps.clock());
    return c.json({ changes: page.changes, syncToken: encodeSyncToken(page.lastSeq), hasMore: page.hasMore });
  });
}
