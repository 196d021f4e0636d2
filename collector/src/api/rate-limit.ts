// Rate limits on the HTTP API (README "Rate limits"), with @fastify/rate-limit: a fixed window of calls per API key,
// and per address for calls without a valid key, so a script gone wrong or a key-guessing run is slowed without
// touching other callers. Counted in Redis when one is configured, so limits hold across collectors; with Redis
// unreachable calls go through (a monitoring API that fails closed on its cache would lock SREs out in an outage).
// Runs as each route's onRequest hook, after authentication has named the caller and before a refused key is
// answered 401: failed attempts count against the address.
import rateLimit, { type FastifyRateLimitStoreCtor } from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Redis } from "ioredis";
import { formatDuration, type Clock } from "@vigil/shared";
import { CollectorError, CollectorErrors } from "../errors.js";
import { routeNeeds } from "./authenticate.js";
import { ClockWindowStore } from "./rate-limit-store.js";

export interface RateLimits {
  /** Calls per window for a caller with a valid key (or any caller while access is open). */
  max: number;
  /** Calls per window for one address without a valid key. */
  anonymousMax: number;
  windowMs: number;
}

export interface RateLimitStats {
  /** Calls answered 429. */
  limited: number;
}

export interface RateLimitOptions {
  limits: RateLimits;
  /** Shared counters; null: counted in this process. */
  redis: Redis | null;
  /** /metrics is public unless it needs a key (it is then limited like any other route). */
  metricsAuth: boolean;
  clock: Clock;
  stats: RateLimitStats;
}

/** Where counters live in Redis: one key per caller, shared by every collector. */
export const REDIS_NAMESPACE = "vigil:rate-limit:";

export function newRateLimitStats(): RateLimitStats {
  return { limited: 0 };
}

/** Whose calls are counted together: the key's, else the address's. */
export function callerOf(req: FastifyRequest): string {
  return req.principal?.keyId ? `key:${req.principal.keyId}` : `addr:${req.ip}`;
}

/** Registers the limiter; routes added after it (in a later plugin) are limited. */
export function registerRateLimit(app: FastifyInstance, opts: RateLimitOptions): void {
  const { limits, clock } = opts;
  class LocalStore extends ClockWindowStore {
    constructor() {
      super(clock);
    }
  }
  void app.register(rateLimit, {
    global: true,
    hook: "onRequest",
    timeWindow: limits.windowMs,
    max: (req) => (req.principal ? limits.max : limits.anonymousMax),
    keyGenerator: callerOf,
    // Probes, the API document and (by default) /metrics are not limited: a load balancer must always get its answer.
    allowList: (req) => routeNeeds(req.routeOptions.config.access, opts.metricsAuth) === "public",
    ...(opts.redis ? { redis: opts.redis, nameSpace: REDIS_NAMESPACE, skipOnError: true } : { store: LocalStore as FastifyRateLimitStoreCtor }),
    onExceeded: () => {
      opts.stats.limited++;
    },
    errorResponseBuilder: (req, ctx) =>
      new CollectorError(
        CollectorErrors.RATE_LIMITED,
        `rate limit: more than ${ctx.max} calls in ${formatDuration(limits.windowMs)} ${req.principal?.keyId ? `with the key ${JSON.stringify(req.principal.name)}` : `from ${req.ip} without a valid key`}; retry after ${Math.ceil(ctx.ttl / 1000)} s (api.rate_limit)`,
      ),
  });
}
