import { IDEMPOTENCY_KEY_HEADER, IdempotencyKey } from "@wsync/shared-protocol";
import type { MiddlewareHandler } from "hono";
import { hex, sha256 } from "../auth/bytes.ts";
import type { ChangeOutcome, Writer } from "../db/change-transaction.ts";
import { answerFor, findStoredAnswer } from "../db/idempotency-keys.ts";
import type { AppContext, AppDeps, AppEnv } from "./context.ts";
import { validate } from "./json-body.ts";

export const REPLAYED_HEADER = "Idempotent-Replayed";

/**
 * The Idempotency-Key extension for changes: a retry of a request whose answer was lost gets that
 * answer again instead of running twice (a second commit of the same version would be a conflict).
 * The answer is stored by the change's own transaction (db/change-transaction.ts); this middleware
 * only answers early when it is already there, and hands the key to the route otherwise. Failed
 * requests store nothing, so their retry runs again.
 */
export function idempotent(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header(IDEMPOTENCY_KEY_HEADER);
    if (header === undefined) return next();
    const key = validate(IdempotencyKey, header, `${IDEMPOTENCY_KEY_HEADER} header`);
    // The path and query, not the full URL: a retry may come through another host name or balancer.
    const url = new URL(c.req.url);
    const requestHash = hex(
      await sha256(`${c.req.method} ${url.pathname}${url.search}\n${await c.req.text()}`),
    );
    const stored = await findStoredAnswer(deps.sql, c.get("auth").userId, key);
    if (stored) {
      const answer = answerFor(stored, { requestHash });
      c.header(REPLAYED_HEADER, "true");
      return c.json(answer.body as object, answer.status as 200);
    }
    c.set("idempotency", { key, requestHash });
    await next();
  };
}

/** The writer of a change: the signed-in device, now, and the request's key with its success status. */
export function writerOf(c: AppContext, now: Date, status: number): Writer {
  const { userId, deviceId } = c.get("auth");
  const key = c.get("idempotency");
  return { ownerId: userId, deviceId, now, idempotency: key ? { ...key, status } : undefined };
}

/** The answer to a change, marked when it is the stored answer of an earlier request. */
export function changeResponse<T extends object>(
  c: AppContext,
  outcome: ChangeOutcome<T>,
  status: 200 | 201,
): Response {
  if (outcome.replayed) c.header(REPLAYED_HEADER, "true");
  return c.json(outcome.receipt as object, status);
}
