// The connection to Redis, where collectors keep what they share (rate-limit counters). A command never waits for a
// reconnect: with Redis down it fails at once (the caller decides what that means) instead of queueing and stalling
// the request that issued it. Connection errors are logged once per outage, without the URL (it may hold a password).
import { Redis } from "ioredis";
import type { Logger } from "@vigil/shared";

/** Longest a command may take before it counts as failed. */
const COMMAND_TIMEOUT_MS = 500;
const CONNECT_TIMEOUT_MS = 2_000;
/** Longest wait between reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 5_000;

export interface RedisStats {
  /** Connection errors seen (each outage is logged once). */
  errors: number;
}

export function connectRedis(url: string, log: Logger, stats: RedisStats = { errors: 0 }): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS),
  });
  let down = false;
  redis.on("error", (err: NodeJS.ErrnoException) => {
    stats.errors++;
    if (!down) log.warn({ code: err.code, error: err.message }, "Redis unreachable; rate limits are not enforced until it is back");
    down = true;
  });
  redis.on("ready", () => {
    if (down) log.info("Redis reachable again");
    down = false;
  });
  return redis;
}
