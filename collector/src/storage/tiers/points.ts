// Points in memory: one series' raw samples, or its rollup buckets, as parallel typed arrays sorted by time.
import type { RawPoints, RollupPoints } from "../codec/index.js";

export type { RawPoints, RollupPoints };

export const emptyRaw = (): RawPoints => ({ times: new Float64Array(0), values: new Float64Array(0) });

/**
 * The k-way merge both point kinds use: for each distinct time across the sorted sets, in time order, the set (by
 * priority: the first set holding the time) and the index its point is taken from.
 */
function mergeOrder(sets: readonly { times: Float64Array }[], take: (set: number, index: number) => void): void {
  const at = sets.map(() => 0);
  for (;;) {
    let best = -1;
    let bestT = Infinity;
    for (let i = 0; i < sets.length; i++) {
      const t = sets[i]!.times[at[i]!];
      if (t !== undefined && t < bestT) {
        bestT = t;
        best = i;
      }
    }
    if (best < 0) return;
    take(best, at[best]!);
    for (let i = 0; i < sets.length; i++) if (sets[i]!.times[at[i]!] === bestT) at[i]!++;
  }
}

/**
 * Merges sorted raw point sets, in priority order: at a time present in several, the first set's value stays (the
 * first stored point is the one kept, as on insert).
 */
export function mergeRaw(sets: readonly RawPoints[]): RawPoints {
  const live = sets.filter((s) => s.times.length > 0);
  if (live.length === 0) return emptyRaw();
  if (live.length === 1) return live[0]!;
  const total = live.reduce((n, s) => n + s.times.length, 0);
  const times = new Float64Array(total);
  const values = new Float64Array(total);
  let n = 0;
  mergeOrder(live, (set, j) => {
    times[n] = live[set]!.times[j]!;
    values[n] = live[set]!.values[j]!;
    n++;
  });
  return { times: times.subarray(0, n), values: values.subarray(0, n) };
}

/** The samples in `(from, to]`. */
export function sliceRaw(p: RawPoints, from: number, to: number): RawPoints {
  const a = upperBound(p.times, from);
  const b = upperBound(p.times, to);
  return { times: p.times.subarray(a, b), values: p.values.subarray(a, b) };
}

/** First index whose time is > t. */
export function upperBound(times: Float64Array, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const emptyRollup = (): RollupPoints => ({ times: new Float64Array(0), min: new Float64Array(0), max: new Float64Array(0), sum: new Float64Array(0), count: new Float64Array(0), last: new Float64Array(0) });

/** Rollup buckets of width `res` (each `(label − res, label]`) of sorted raw samples. NaN propagates, as in the raw tier. */
export function rollUp(p: RawPoints, res: number): RollupPoints {
  const n = p.times.length;
  const out = { times: new Float64Array(n), min: new Float64Array(n), max: new Float64Array(n), sum: new Float64Array(n), count: new Float64Array(n), last: new Float64Array(n) };
  let k = -1;
  for (let i = 0; i < n; i++) {
    const label = Math.ceil(p.times[i]! / res) * res;
    const v = p.values[i]!;
    if (k < 0 || out.times[k] !== label) {
      k++;
      out.times[k] = label;
      out.min[k] = v;
      out.max[k] = v;
      out.sum[k] = v;
      out.count[k] = 1;
    } else {
      out.min[k] = Math.min(out.min[k]!, v);
      out.max[k] = Math.max(out.max[k]!, v);
      out.sum[k]! += v;
      out.count[k]!++;
    }
    out.last[k] = v;
  }
  const m = k + 1;
  return { times: out.times.subarray(0, m), min: out.min.subarray(0, m), max: out.max.subarray(0, m), sum: out.sum.subarray(0, m), count: out.count.subarray(0, m), last: out.last.subarray(0, m) };
}

/** Merges rollup bucket sets in priority order: a bucket present in several is taken whole from the first. */
export function mergeRollups(sets: readonly RollupPoints[]): RollupPoints {
  const live = sets.filter((s) => s.times.length > 0);
  if (live.length === 0) return emptyRollup();
  if (live.length === 1) return live[0]!;
  const total = live.reduce((n, s) => n + s.times.length, 0);
  const out = { times: new Float64Array(total), min: new Float64Array(total), max: new Float64Array(total), sum: new Float64Array(total), count: new Float64Array(total), last: new Float64Array(total) };
  let n = 0;
  mergeOrder(live, (set, j) => {
    const s = live[set]!;
    out.times[n] = s.times[j]!;
    out.min[n] = s.min[j]!;
    out.max[n] = s.max[j]!;
    out.sum[n] = s.sum[j]!;
    out.count[n] = s.count[j]!;
    out.last[n] = s.last[j]!;
    n++;
  });
  return { times: out.times.subarray(0, n), min: out.min.subarray(0, n), max: out.max.subarray(0, n), sum: out.sum.subarray(0, n), count: out.count.subarray(0, n), last: out.last.subarray(0, n) };
}

/** The buckets labelled in `(from, to]`. */
export function sliceRollup(p: RollupPoints, from: number, to: number): RollupPoints {
  const a = upperBound(p.times, from);
  const b = upperBound(p.times, to);
  return { times: p.times.subarray(a, b), min: p.min.subarray(a, b), max: p.max.subarray(a, b), sum: p.sum.subarray(a, b), count: p.count.subarray(a, b), last: p.last.subarray(a, b) };
}

/**
 * Buckets of `fresh` added into the stored sets: for late samples whose hour has no raw samples left to recompute
 * the buckets from (its raw tier expired first). `last` is taken from the fresh bucket.
 */
export function addRollups(stored: readonly RollupPoints[], fresh: RollupPoints): RollupPoints {
  const base = mergeRollups(stored);
  const at = new Map<number, number>();
  base.times.forEach((t, i) => at.set(t, i));
  const extra: number[] = [];
  const out = { times: Float64Array.from(base.times), min: Float64Array.from(base.min), max: Float64Array.from(base.max), sum: Float64Array.from(base.sum), count: Float64Array.from(base.count), last: Float64Array.from(base.last) };
  for (let j = 0; j < fresh.times.length; j++) {
    const i = at.get(fresh.times[j]!);
    if (i === undefined) {
      extra.push(j);
      continue;
    }
    out.min[i] = Math.min(out.min[i]!, fresh.min[j]!);
    out.max[i] = Math.max(out.max[i]!, fresh.max[j]!);
    out.sum[i]! += fresh.sum[j]!;
    out.count[i]! += fresh.count[j]!;
    out.last[i] = fresh.last[j]!;
  }
  if (extra.length === 0) return out;
  const pick = (a: Float64Array) => Float64Array.from(extra, (j) => a[j]!);
  const rest: RollupPoints = { times: pick(fresh.times), min: pick(fresh.min), max: pick(fresh.max), sum: pick(fresh.sum), count: pick(fresh.count), last: pick(fresh.last) };
  return mergeRollups([out, rest]);
}
