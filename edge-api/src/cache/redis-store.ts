// Node-only startup wiring (like node.ts): the request path reaches Redis only through the CacheStore
// interface, so the Deno entry point and anything built on createApp never load the Redis client.
import { Redis } from "ioredis";
import type { LogSink } from "../http/context.ts";
import type { CacheStore } from "./cache-store.ts";

export interface RedisStoreOptions {
  url: string;
  /** A command not answered by then fails (the caller then answers from PostgreSQL). */
  commandTimeoutMs: number;
  log: LogSink;
}

/**
 * The cache in Redis, shared by every instance. Built to fail fast rather than wait: no offline queue
 * (while disconnected a command fails at once), no per-command retries, a command timeout; the client
 * reconnects on its own in the background.
 */
export interface RedisStore extends CacheStore {
  /** Resolves true once connected, or false after `timeoutMs` (the store keeps trying meanwhile). */
  ready(timeoutMs: number): Promise<boolean>;
}

export function createRedisStore(options: RedisStoreOptions): RedisStore {
  const redis = new Redis(options.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2_000),
    lazyConnect: false,
  });
  let lastErrorLog = 0;
  redis.on("error", (error: Error) => {
    // The client retries by itself; one line every 10 s is enough to tell the operator.
    if (Date.now() - lastErrorLog < 10_000) return;
    lastErrorLog = Date.now();
    options.log({
      level: "warn",
      msg: "redis connection error",
      error: { name: error.name, message: error.message },
    });
  });
  return {
    kind: "redis",
    ready(timeoutMs) {
      if (redis.status === "ready") return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          redis.off("ready", onReady);
          resolve(false);
        }, timeoutMs);
        const onReady = () => {
          clearTimeout(timer);
          resolve(true);
        };
        redis.once("ready", onReady);
      });
    },
    async areMembers(key, members) {
      if (members.length === 0) return [];
      const answers = await redis.smismember(key, ...members);
      return answers.map((answer) => answer === 1);
    },
    async addMembers(key, members, ttlSeconds) {
      if (members.length === 0) return;
      await redis
        .multi()
        .sadd(key, ...members)
        .expire(key, ttlSeconds)
        .exec();
    },
    async removeMembers(key, members) {
      if (members.length === 0) return;
      await redis.srem(key, ...members);
    },
    async getField(key, field) {
      return redis.hget(key, field);
    },
    async setField(key, field, value, ttlSeconds) {
      await redis.multi().hset(key, field, value).expire(key, ttlSeconds).exec();
    },
    async delete(keys) {
      if (keys.length === 0) return;
      await redis.del(...keys);
    },
    async close() {
      redis.disconnect();
    },
  };
}
