import { ApiError } from "@wsync/shared-protocol";
import type { RateLimitRule } from "../config.ts";
import { hitRateLimit } from "../db/rate-limits.ts";
import type { AppDeps } from "./context.ts";

/** Counts a hit on `bucket`; over the rule's limit it is `rate_limited` with `Retry-After`. */
export async function enforceRateLimit(deps: AppDeps, bucket: string, rule: RateLimitRule): Promise<void> {
  const verdict = await hitRateLimit(deps.sql, bucket, rule, deps.clock());
  if (!verdict.allowed) {
    throw new ApiError("rate_limited", "too many attempts; try again later", {
      retryAfterSeconds: verdict.retryAfterSeconds,
    });
  }
}
