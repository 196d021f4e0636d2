// Per-series sliding windows of (time, value) in ring buffers of typed arrays: no allocation per point once
// grown, and memory bounded by the longest `reduce.over` / `window` of the rules reading the series.
import type { ReduceFn } from "./types.js";

export class SampleWindow {
  private times: Float64Array;
  private values: Float64Array;
  private head = 0;
  private size = 0;

  constructor(capacity = 8) {
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** Appends a point; times must not decrease (the engine drops out-of-order points before). */
  push(time: number, value: number): void {
    if (this.size === this.times.length) this.grow();
    const i = (this.head + this.size) % this.times.length;
    this.times[i] = time;
    this.values[i] = value;
    this.size++;
  }

  /** Drops points older than `minTime`. */
  trimBefore(minTime: number): void {
    const cap = this.times.length;
    while (this.size > 0 && this.times[this.head]! < minTime) {
      this.head = (this.head + 1) % cap;
      this.size--;
    }
  }

  /** avg / max / min / last of the points at or after `fromTime`; NaN when there are none. */
  reduce(fn: ReduceFn, fromTime: number): number {
    const cap = this.times.length;
    let n = 0;
    let acc = fn === "max" ? -Infinity : fn === "min" ? Infinity : 0;
    for (let k = this.size - 1; k >= 0; k--) {
      const i = (this.head + k) % cap;
      if (this.times[i]! < fromTime) break;
      const v = this.values[i]!;
      if (fn === "last") return v;
      n++;
      if (fn === "avg") acc += v;
      else if (fn === "max") acc = v > acc ? v : acc;
      else acc = v < acc ? v : acc;
    }
    if (n === 0) return NaN;
    return fn === "avg" ? acc / n : acc;
  }

  /**
   * Change per second between the first and last points at or after `fromTime`. With `counter`, a decrease is a
   * reset: the value after it counts as the increase. NaN with fewer than two points.
   */
  rate(fromTime: number, counter: boolean): number {
    const cap = this.times.length;
    let k = this.size - 1;
    if (k < 1) return NaN;
    const lastI = (this.head + k) % cap;
    let increase = 0;
    let next = this.values[lastI]!;
    let firstT = this.times[lastI]!;
    for (k--; k >= 0; k--) {
      const i = (this.head + k) % cap;
      const t = this.times[i]!;
      if (t < fromTime) break;
      const v = this.values[i]!;
      increase += counter && next < v ? next : next - v;
      next = v;
      firstT = t;
    }
    const span = this.times[lastI]! - firstT;
    return span > 0 ? increase / (span / 1000) : NaN;
  }

  private grow(): void {
    const cap = this.times.length;
    const times = new Float64Array(cap * 2);
    const values = new Float64Array(cap * 2);
    for (let k = 0; k < this.size; k++) {
      const i = (this.head + k) % cap;
      times[k] = this.times[i]!;
      values[k] = this.values[i]!;
    }
    this.times = times;
    this.values = values;
    this.head = 0;
  }
}
