import type { Labels } from "@vigil/shared";

/** One value of one series at the tick's time. The host is added by the collector, not here. */
export interface Sample {
  metric: string;
  labels: Labels;
  value: number;
}

/**
 * A source of host metrics, sampled once per tick. Rate metrics keep the previous reading and emit
 * nothing on the first tick. `nowMs` is the tick's time (monotonic enough for rates).
 */
export interface MetricSource {
  readonly name: string;
  collect(nowMs: number): Sample[];
}
