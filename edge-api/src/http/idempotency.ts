import { ApiError, IDEMPOTENCY_KEY_HEADER, IdempotencyKey } from "@wsync/shared-protocol";
import type { MiddlewareHandler } from "hono";
import { hex, sha256 } from "../auth/bytes.ts";
import { claimIdempotencyKey, releaseIdempotencyKey, storeIdempotentAnswer } from "../db/idempotency-keys.ts";
import type { AppDeps, AppEnv } from "./context.ts";
import { validate } from "./json-body.ts";

/**
 * The Idempotency-Key extension for changes: a retry of a request whose answer was lost gets that
 * answer again instead of running twice (a second commit of the same version would be a conflict).
 * Only successful answers are kept; a failed request frees its key, so a retry runs again.
 */
export function idempotent(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header(IDEMPOTENCY_KEY_HEADER);
    if (header === undefined) return next();
    const key = validate(IdempotencyKey, header, `${IDEMPOTENCY_KEY_HEADER} header`);
    const { userId } = c.get("auth");
    const requestHash = hex(await sha256(`${c.req.method} ${c.req.url}\n${await c.req.text()}`));
    const claim = await claimIdempotencyKey(deps.sql, userId, key, requestHash, deps.clock());
    if (claim.kind === "reused") {
      throw new ApiError("idempotency_key_reused", "this Idempotency-Key was used for a different request");
    }
    if (claim.kind === "in_progress") {
      throw new ApiError("rate_limited", "a request with this Idempotency-Key is in progress", {
        retryAfterSeconds: 1,
      });
    }
    if (claim.kind === "replay") {
      c.header("Idempotent-Replayed", "true");
      return c.json(claim.body as object, claim.status as 200);
    }
    let stored = false;
    try {
      await next();
      if (c.res.status >= 200 && c.res.status < 300) {
        await storeIdempotentAnswer(deps.sql, userId, key, c.res.status, await c.res.clone().json());
        stored = true;
      }
    } finally {
      if (!stored) await releaseIdempotencyKey(deps.sql, userId, key);
    }
  };
}
