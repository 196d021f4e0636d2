// Hand-written rational column of the block codec (see index.ts for why no library): values that are exactly p / q
// for integers p and a small q, stored as the two integer columns. Host metrics are full of them: CPU utilization is
// jiffies / jiffies (q ≈ 1000 a core per 10 s), memory and filesystem utilization are used / total with a fixed
// total, and decimals (load 0.52, uptime 1234.56, ms / 1000) are p / 10^d. Stored this way they stay exact and cost
// about what their integers cost, where as doubles they are 52 bits of noise.
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { CodecError } from "./codec-error.js";
import { intColumnBound, isIntColumn, readInts, writeInts } from "./int-column.js";

/** Largest denominator searched: covers a filesystem's block count (used / (used + free)) on large disks. */
export const MAX_DENOMINATOR = 2 ** 32;

/** Denominators remembered, most recent first: a CPU's total jiffies take a few neighbouring values. */
const RECENT = 4;

/**
 * Denominators above this are only worth it when they repeat (a filesystem's block count). Below it are the totals
 * of real ratios: 128 cores × 100 Hz × 10 s is 128,000 jiffies. On a 64-core host's total CPU, which takes a new
 * denominator nearly every tick, two integer columns cost 2.75 B a value and its doubles 6.6.
 */
const LARGE_DENOMINATOR = 2 ** 20;
const MAX_LARGE_SEARCHES = 16;

export const rationalColumnBound = (n: number): number => 2 * intColumnBound(n);

export interface Rationals {
  p: Float64Array;
  q: Float64Array;
}

/**
 * Numerators and denominators with p[i] / q[i] === values[i] exactly (the decoder's own division), or undefined when
 * some value has none with q ≤ MAX_DENOMINATOR, or when more than MAX_LARGE_SEARCHES values needed a new denominator
 * above LARGE_DENOMINATOR: random-looking doubles, which match some huge p / q every time and would cost more as two
 * integer columns than as floats.
 */
export function rationalSplit(values: ArrayLike<number>): Rationals | undefined {
  const n = values.length;
  const p = new Float64Array(n);
  const q = new Float64Array(n);
  const recent = new Float64Array(RECENT);
  let known = 0;
  let largeSearches = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v) || Object.is(v, -0)) return undefined;
    let k = 0;
    for (; k < known; k++) {
      const d = recent[k]!;
      const num = Math.round(v * d);
      if (num / d === v && Number.isSafeInteger(num)) {
        p[i] = num;
        q[i] = d;
        break;
      }
    }
    if (k === known) {
      if (!continuedFraction(v, p, q, i)) return undefined;
      if (q[i]! > LARGE_DENOMINATOR && ++largeSearches > MAX_LARGE_SEARCHES) return undefined;
      if (known > 0) nearMultiple(p, q, i, recent[0]!);
      if (known < RECENT) known++;
      k = known - 1;
    }
    // Most recent first: the last denominator is the likeliest for the next value.
    for (; k > 0; k--) recent[k] = recent[k - 1]!;
    recent[0] = q[i]!;
  }
  return isIntColumn(p) ? { p, q } : undefined;
}

export function writeRationals(w: ByteWriter, r: Rationals): void {
  writeInts(w, r.q);
  writeInts(w, r.p);
}

export function readRationals(r: ByteReader, out: Float64Array, what: string): void {
  const n = out.length;
  const q = new Float64Array(n);
  readInts(r, q, `${what} denominators`);
  readInts(r, out, `${what} numerators`);
  for (let i = 0; i < n; i++) {
    const d = q[i]!;
    if (!(d >= 1 && d <= MAX_DENOMINATOR)) throw new CodecError(`${what}: denominator ${i} is ${d}, expected 1..${MAX_DENOMINATOR}`);
    out[i] = out[i]! / d;
  }
}

/**
 * Replaces the lowest-terms p[i] / q[i] by the same fraction over the multiple of q[i] nearest `previous`: 150/1000
 * comes out of the search as 3/20, and 3/20 would break a run of 1000s in the denominator column. p·m / (q·m) is the
 * same rational, so its correctly rounded quotient is the same double.
 */
function nearMultiple(p: Float64Array, q: Float64Array, i: number, previous: number): void {
  const m = Math.round(previous / q[i]!);
  if (m <= 1 || q[i]! * m > MAX_DENOMINATOR || !Number.isSafeInteger(p[i]! * m)) return;
  p[i] = p[i]! * m;
  q[i] = q[i]! * m;
}

/**
 * Walks the convergents h/k of v's continued fraction and stores the first with h / k === v. A fraction that close
 * to v with a small k is always a convergent (Legendre), so this finds it; the float steps lose precision only for
 * large k, where a miss merely sends the column to the float layout.
 */
function continuedFraction(v: number, p: Float64Array, q: Float64Array, i: number): boolean {
  let h1 = 1;
  let h2 = 0;
  let k1 = 0;
  let k2 = 1;
  let x = v;
  for (let step = 0; step < 64; step++) {
    const a = Math.floor(x);
    const h = a * h1 + h2;
    const k = a * k1 + k2;
    if (k > MAX_DENOMINATOR || !Number.isSafeInteger(h)) return false;
    if (h / k === v) {
      p[i] = h;
      q[i] = k;
      return true;
    }
    const frac = x - a;
    if (frac === 0) return false;
    x = 1 / frac;
    h2 = h1;
    h1 = h;
    k2 = k1;
    k1 = k;
  }
  return false;
}
