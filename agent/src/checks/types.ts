import type { Labels } from "@vigil/shared";

export type CheckStatus = "healthy" | "degraded" | "unhealthy";

/** Numeric form used in series and storage: 0 healthy, 1 degraded, 2 unhealthy (worse is larger). */
export const STATUS_CODE: Record<CheckStatus, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

/** A kind-specific metric of one check run; the scheduler adds labels `check` and `kind`. */
export interface CheckMetric {
  metric: string;
  labels?: Labels;
  value: number;
}

export interface CheckOutcome {
  status: CheckStatus;
  /** One short line for people: what was seen, or what failed and where. Never contains secrets. */
  message: string;
  metrics?: CheckMetric[];
}

/** What every check's config has; kinds add their own fields. */
export interface CheckCommon {
  name: string;
  kind: string;
  intervalMs: number;
  timeoutMs: number;
  /** Latency at or above which a passing check is degraded (optional). */
  degradedAfterMs?: number;
}

/**
 * One configured check. `run` must give up when `signal` aborts (the scheduler aborts at the timeout and reports
 * unhealthy itself, so a hung check never blocks sampling or other checks). It may throw: the scheduler turns the
 * error's message into an unhealthy result.
 */
export interface Check {
  readonly common: CheckCommon;
  run(signal: AbortSignal): Promise<CheckOutcome>;
}

/** One finished run, as sent to the collector. */
export interface CheckResult {
  name: string;
  kind: string;
  status: CheckStatus;
  durationMs: number;
  message: string;
  timeMs: number;
  metrics: CheckMetric[];
}
