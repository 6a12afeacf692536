import type { Sql } from "postgres";
import type { RateLimitRule } from "../config.ts";

export interface RateLimitVerdict {
  allowed: boolean;
  /** Seconds until the window ends (for `Retry-After`). */
  retryAfterSeconds: number;
}

/**
 * Counts one hit against `bucket` in the current fixed window, in one atomic statement, so every
 * instance of the API shares the count.
 */
export async function hitRateLimit(
  sql: Sql,
  bucket: string,
  rule: RateLimitRule,
  now: Date,
): Promise<RateLimitVerdict> {
  const windowMs = rule.windowSeconds * 1000;
  const windowStart = new Date(Math.floor(now.getTime() / windowMs) * windowMs);
  const [row] = await sql<{ hits: number }[]>`
    INSERT INTO rate_limits (bucket, window_start, hits) VALUES (${bucket}, ${windowStart}, 1)
    ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1
    RETURNING hits`;
  const retryAfterSeconds = Math.max(1, Math.ceil((windowStart.getTime() + windowMs - now.getTime()) / 1000));
  return { allowed: (row?.hits ?? 0) <= rule.limit, retryAfterSeconds };
}

/** Drops windows that ended before `before` (run by the maintenance job). */
export async function deleteExpiredRateLimitWindows(sql: Sql, before: Date): Promise<number> {
  const result = await sql`DELETE FROM rate_limits WHERE window_start < ${before}`;
  return result.count;
}
