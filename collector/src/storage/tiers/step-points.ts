// A range answer's points for one series. The points are the multiples of the step in [start, end]; the point at `t`
// aggregates the samples in `(t − step, t]` (as Prometheus does), so `end` is the last point and no partial bucket
// follows it. Samples and rollup buckets feed the same accumulators, so every tier answers through one definition.
import type { RawPoints, RollupPoints } from "./points.js";

export type StepAggregation = "avg" | "min" | "max" | "sum" | "last" | "count";

export class StepPoints {
  /** Time of the first point; points are first, first + step, … */
  readonly first: number;
  readonly n: number;
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private readonly sum: Float64Array;
  private readonly count: Float64Array;
  private readonly last: Float64Array;
  /** Time of the sample or bucket `last` came from, so feeding order does not matter. */
  private readonly lastT: Float64Array;

  constructor(
    startMs: number,
    endMs: number,
    readonly stepMs: number,
  ) {
    this.first = Math.ceil(startMs / stepMs) * stepMs;
    this.n = Math.max(0, Math.floor(endMs / stepMs) - Math.ceil(startMs / stepMs) + 1);
    this.min = new Float64Array(this.n);
    this.max = new Float64Array(this.n);
    this.sum = new Float64Array(this.n);
    this.count = new Float64Array(this.n);
    this.last = new Float64Array(this.n);
    this.lastT = new Float64Array(this.n).fill(-Infinity);
  }

  /** The window `(first − step, last point]` samples must fall in to count. */
  get fromMs(): number {
    return this.first - this.stepMs;
  }
  get toMs(): number {
    return this.first + (this.n - 1) * this.stepMs;
  }

  /** The point a sample at time t belongs to, or -1 outside the range. */
  indexOf(t: number): number {
    const k = Math.ceil((t - this.first) / this.stepMs);
    return k >= 0 && k < this.n ? k : -1;
  }

  addRaw(p: RawPoints): void {
    for (let i = 0; i < p.times.length; i++) {
      const k = this.indexOf(p.times[i]!);
      if (k >= 0) this.put(k, p.times[i]!, p.values[i]!, p.values[i]!, p.values[i]!, 1, p.values[i]!);
    }
  }

  /** Rollup buckets; their resolution must divide the step (a bucket then lies inside one point's window). */
  addRollup(p: RollupPoints): void {
    for (let i = 0; i < p.times.length; i++) {
      const k = this.indexOf(p.times[i]!);
      if (k >= 0) this.put(k, p.times[i]!, p.min[i]!, p.max[i]!, p.sum[i]!, p.count[i]!, p.last[i]!);
    }
  }

  /** Point k taken whole from another accumulator of the same range. */
  copyPoint(from: StepPoints, k: number): void {
    this.min[k] = from.min[k]!;
    this.max[k] = from.max[k]!;
    this.sum[k] = from.sum[k]!;
    this.count[k] = from.count[k]!;
    this.last[k] = from.last[k]!;
    this.lastT[k] = from.lastT[k]!;
  }

  private put(k: number, t: number, min: number, max: number, sum: number, count: number, last: number): void {
    if (this.count[k] === 0) {
      this.min[k] = min;
      this.max[k] = max;
      this.sum[k] = sum;
    } else {
      this.min[k] = Math.min(this.min[k]!, min);
      this.max[k] = Math.max(this.max[k]!, max);
      this.sum[k]! += sum;
    }
    this.count[k]! += count;
    if (t >= this.lastT[k]!) {
      this.last[k] = last;
      this.lastT[k] = t;
    }
  }

  value(k: number, agg: StepAggregation): number | null {
    const c = this.count[k]!;
    if (c === 0) return null;
    switch (agg) {
      case "avg":
        return this.sum[k]! / c;
      case "min":
        return this.min[k]!;
      case "max":
        return this.max[k]!;
      case "sum":
        return this.sum[k]!;
      case "last":
        return this.last[k]!;
      case "count":
        return c;
    }
  }

  /** The points with samples as a JSON array `[[unix_ms, value], …]`; non-finite values as null. Null when none. */
  json(agg: StepAggregation): string | null {
    const parts: string[] = [];
    for (let k = 0; k < this.n; k++) {
      if (this.count[k] === 0) continue;
      const v = this.value(k, agg)!;
      parts.push(`[${this.first + k * this.stepMs},${Number.isFinite(v) ? String(v) : "null"}]`);
    }
    return parts.length === 0 ? null : `[${parts.join(",")}]`;
  }
}
