/** What an operator may tune; everything has a default fit for one small deployment. */
export interface RateLimitRule {
  /** Requests allowed per window. */
  limit: number;
  windowSeconds: number;
}

export interface EdgeConfig {
  /** Each new account's quota in bytes. */
  storageQuotaBytes: number;
  /** PBKDF2-SHA256 iterations for new password hashes (stored with the hash, so it can rise). */
  passwordHashIterations: number;
  rateLimits: {
    /** Login attempts per email, whatever the address: slows guessing one account's password. */
    loginPerEmail: RateLimitRule;
    /** Login attempts per client address: slows guessing across accounts. */
    loginPerAddress: RateLimitRule;
    registerPerAddress: RateLimitRule;
  };
  /** Versions older than this (but never a file's current one) are pruned by the retention job. */
  retentionSeconds: number;
  /**
   * An unreferenced chunk stays in the store this long before garbage collection may delete it. It
   * must outlive a presigned PUT, so an upload in flight is never collected under its uploader.
   */
  chunkGraceSeconds: number;
  /** Idempotency keys are remembered this long. */
  idempotencyKeySeconds: number;
  /**
   * A register's pending claim on an email older than this, whose user does not exist, is taken to be
   * a register that died, and a new register of the email takes it over.
   */
  emailClaimTakeoverSeconds: number;
  /** How often retention, garbage collection and housekeeping run (0: never, e.g. in tests). */
  maintenanceIntervalSeconds: number;
  cache: {
    /** How long a cached "this user owns this chunk" lives (GC also removes it explicitly). */
    ownershipTtlSeconds: number;
    fileMetadataTtlSeconds: number;
    /** A cache operation not done by then counts as failed: the answer comes from PostgreSQL. */
    timeoutMs: number;
  };
}

const GiB = 1024 ** 3;

export const defaultConfig: EdgeConfig = {
  storageQuotaBytes: 10 * GiB,
  passwordHashIterations: 600_000,
  rateLimits: {
    loginPerEmail: { limit: 10, windowSeconds: 15 * 60 },
    loginPerAddress: { limit: 60, windowSeconds: 15 * 60 },
    registerPerAddress: { limit: 20, windowSeconds: 60 * 60 },
  },
  retentionSeconds: 30 * 24 * 3600,
  chunkGraceSeconds: 24 * 3600,
  idempotencyKeySeconds: 24 * 3600,
  emailClaimTakeoverSeconds: 5 * 60,
  maintenanceIntervalSeconds: 3600,
  cache: { ownershipTtlSeconds: 3600, fileMetadataTtlSeconds: 600, timeoutMs: 100 },
};

export type EdgeConfigOverrides = Partial<Omit<EdgeConfig, "rateLimits" | "cache">> & {
  rateLimits?: Partial<EdgeConfig["rateLimits"]>;
  cache?: Partial<EdgeConfig["cache"]>;
};

export function resolveConfig(overrides: EdgeConfigOverrides = {}): EdgeConfig {
  return {
    ...defaultConfig,
    ...overrides,
    rateLimits: { ...defaultConfig.rateLimits, ...overrides.rateLimits },
    cache: { ...defaultConfig.cache, ...overrides.cache },
  };
}
