// The HTTP API's access control on /metrics: refused calls by reason (a brute force shows here first), calls over
// the rate limits, Redis failures, and audit entries written or dropped.
import type { Registry } from "prom-client";
import type { AuditStats } from "../api/audit-trail.js";
import type { AccessStats } from "../api/authenticate.js";
import type { RateLimitStats } from "../api/rate-limit.js";
import type { RedisStats } from "../cluster/redis.js";
import { mirroredCounter, mirroredCounterByLabel } from "./mirrored-counter.js";

export function registerAccessMetrics(registry: Registry, access: AccessStats, audit: AuditStats, limits: RateLimitStats, redis: RedisStats): void {
  mirroredCounterByLabel(
    registry,
    "vigil_collector_api_auth_failures_total",
    "HTTP API calls refused: 401 by reason (missing, malformed, unknown, expired, revoked key) and 403 (forbidden: role too low)",
    () => access.refusals,
  );
  mirroredCounter(registry, "vigil_collector_audit_entries_total", "Audit log entries written", () => audit.written);
  mirroredCounter(registry, "vigil_collector_api_rate_limited_total", "HTTP API calls answered 429: over api.rate_limit for their key or address", () => limits.limited);
  mirroredCounter(registry, "vigil_collector_redis_errors_total", "Redis connection errors (while Redis is unreachable rate limits are not enforced)", () => redis.errors);
  mirroredCounter(registry, "vigil_collector_audit_dropped_total", "Audit log entries not written (database refused, or too many at once); logged", () => audit.dropped);
}
