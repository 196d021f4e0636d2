// The compressed block codec of the storage tiers: a closed time window of one series, all its timestamps and values
// in one byte array (a bytea), for raw samples and for rollups.
//
// Hand-written: no npm library does Gorilla-like encoding of float64 time series for JS; the compression is Node's
// built-in node:zlib.
//
// Layout (block-frame.ts): an uncompressed header (version, kind, n, mantissaBits, compression, payload length), then
// the payload deflated as one stream. The payload is the times (int-column.ts: first time, then deltas of deltas, so
// 10 s ticks cost next to nothing) and one column per value array, each with its own mode byte (a rollup has five;
// value-column.ts):
// - int: all safe integers (byte gauges, counters): deltas or deltas of deltas over their gcd, as varints.
// - rational: all exactly p / q with small q (rational-column.ts): CPU jiffy ratios, used / total, decimals (load
//   0.52, ms / 1000). Two integer columns; exact.
// - float: anything else, mantissa rounded to mantissaBits (float-bits.ts, |error| ≤ |v| 2^-(K+1)), stored plain or
//   XOR-shuffled (float-column.ts).
// mantissaBits only touches the float layout: integers and fractions stay exact whatever it is.
//
// Measured on bench/codec-host.ts (a synthetic day of a 2-core host, 92 series × 8,640 points), deflated bytes a
// sample, exact (52 bits):
// - CPU utilization: rational 0.58, float 1.59 (plain layout; 5.04 XOR-shuffled). Used / total ratios: rational 0.50,
//   float 2.42. Load averages: rational 0.50, decimal-scaled integers 0.495, float 1.08. A decimal mode would save 1%
//   on decimals only; the rational mode covers them and the jiffy ratios that dominate a host.
// - Float layouts over every non-integer column forced through them (and 1-minute averages): plain 1.85, byte
//   shuffle 3.11, XOR + shuffle 3.41, the better of plain and XOR + shuffle per column 1.78, the best of all three
//   1.78; at 24 bits 1.61, 1.95, 2.10, 1.49, 1.48. Hence two layouts, chosen per column.
// - Integers as varints against fixed-width byte planes: planes 0-7% smaller on counters, about 3% overall; not
//   worth a second layout.
// - Whole host payloads (the 90 series without the two measured floats): deflate level 1 0.605, 6 0.580, 9 0.577
//   (3.7× the encode time of 6); brotli quality 5 0.573 (decode 66 µs a block against 48), quality 11 0.518 (13 ms
//   to encode a block). Deflate level 6.
// - The whole codec: bench/codec.ts (0.64 B a sample in day blocks, 0.83 in hour blocks, exact; decode about 150-250
//   µs a day block).
//
// Decoding trusts nothing: n ≤ MAX_BLOCK_POINTS, the payload length within what n points can take, inflating stops
// at that length, every read is bounds-checked, and CodecError names the field that is wrong.
import { ByteReader } from "./byte-reader.js";
import { ByteWriter } from "./byte-writer.js";
import { BlockKind, frameBlock, MAX_BLOCK_POINTS, openBlock } from "./block-frame.js";
import { CodecError } from "./codec-error.js";
import { intColumnBound, readInts, writeInts } from "./int-column.js";
import { readValues, valueColumnBound, writeValues } from "./value-column.js";

export { CodecError } from "./codec-error.js";
export { MAX_BLOCK_POINTS } from "./block-frame.js";

/** Raw samples of one series: `times` are integer ms since the epoch, strictly increasing. */
export interface RawPoints {
  times: Float64Array;
  values: Float64Array;
}

/** Rollup buckets of one series: `times` label the buckets (integer ms, strictly increasing); counts are integers ≥ 0. */
export interface RollupPoints {
  times: Float64Array;
  min: Float64Array;
  max: Float64Array;
  sum: Float64Array;
  count: Float64Array;
  last: Float64Array;
}

/** `mantissaBits` (1..52) kept of non-integer values; 52 keeps every value exact. See float-bits.ts for the bound. */
export interface CodecOptions {
  mantissaBits: number;
}

const ROLLUP_FLOATS = ["min", "max", "sum", "last"] as const;

export function encodeRaw(p: RawPoints, o: CodecOptions): Uint8Array {
  const n = checkTimes(p.times, "raw");
  checkLength(p.values, n, "values");
  const bits = checkBits(o);
  const w = new ByteWriter(rawPayloadBound(n));
  writeInts(w, p.times);
  writeValues(w, p.values, bits);
  return frameBlock({ kind: BlockKind.Raw, n, mantissaBits: bits }, w.finish());
}

export function decodeRaw(buf: Uint8Array): RawPoints {
  const { n, payload } = openBlock(buf, BlockKind.Raw, timesPayloadMin, rawPayloadBound);
  const r = new ByteReader(payload);
  const times = readTimes(r, n);
  const values = new Float64Array(n);
  readValues(r, values, "values");
  checkConsumed(r);
  return { times, values };
}

export function encodeRollup(p: RollupPoints, o: CodecOptions): Uint8Array {
  const n = checkTimes(p.times, "rollup");
  for (const c of [...ROLLUP_FLOATS, "count"] as const) checkLength(p[c], n, c);
  for (let i = 0; i < n; i++) {
    const c = p.count[i]!;
    if (!Number.isSafeInteger(c) || c < 0 || Object.is(c, -0)) throw new RangeError(`rollup count ${i} is ${c}, expected a safe integer ≥ 0`);
  }
  const bits = checkBits(o);
  const w = new ByteWriter(rollupPayloadBound(n));
  writeInts(w, p.times);
  for (const c of ROLLUP_FLOATS) writeValues(w, p[c], bits);
  writeInts(w, p.count);
  return frameBlock({ kind: BlockKind.Rollup, n, mantissaBits: bits }, w.finish());
}

export function decodeRollup(buf: Uint8Array): RollupPoints {
  const { n, payload } = openBlock(buf, BlockKind.Rollup, timesPayloadMin, rollupPayloadBound);
  const r = new ByteReader(payload);
  const times = readTimes(r, n);
  const [min, max, sum, last] = ROLLUP_FLOATS.map((c) => {
    const out = new Float64Array(n);
    readValues(r, out, c);
    return out;
  }) as [Float64Array, Float64Array, Float64Array, Float64Array];
  const count = new Float64Array(n);
  readInts(r, count, "count");
  for (let i = 0; i < n; i++) if (!(count[i]! >= 0)) throw new CodecError(`count ${i} is ${count[i]}, expected ≥ 0`);
  checkConsumed(r);
  return { times, min, max, sum, count, last };
}

/** Each time is at least one varint byte: a payload shorter than n bytes cannot hold n points. */
const timesPayloadMin = (n: number): number => n;
const rawPayloadBound = (n: number): number => intColumnBound(n) + valueColumnBound(n);
const rollupPayloadBound = (n: number): number => 2 * intColumnBound(n) + 4 * valueColumnBound(n);

function checkTimes(times: Float64Array, what: string): number {
  const n = times.length;
  if (n > MAX_BLOCK_POINTS) throw new RangeError(`${what} block of ${n} points, more than ${MAX_BLOCK_POINTS}`);
  for (let i = 0; i < n; i++) {
    const t = times[i]!;
    if (!Number.isSafeInteger(t) || Object.is(t, -0)) throw new RangeError(`time ${i} is ${t}, expected a safe integer`);
    if (i > 0 && !(t > times[i - 1]!)) throw new RangeError(`time ${i} (${t}) does not follow time ${i - 1} (${times[i - 1]})`);
  }
  // Every delta and delta of deltas is then a safe integer too, as the integer column needs.
  if (n > 0 && !Number.isSafeInteger(times[n - 1]! - times[0]!)) throw new RangeError(`${what} block spans more than 2^53 ms`);
  return n;
}

function checkLength(column: Float64Array, n: number, what: string): void {
  if (column.length !== n) throw new RangeError(`${what} has ${column.length} entries for ${n} times`);
}

function checkBits(o: CodecOptions): number {
  const bits = o.mantissaBits;
  if (!Number.isInteger(bits) || bits < 1 || bits > 52) throw new RangeError(`mantissaBits is ${bits}, expected an integer in 1..52`);
  return bits;
}

function readTimes(r: ByteReader, n: number): Float64Array {
  const times = new Float64Array(n);
  readInts(r, times, "times");
  for (let i = 1; i < n; i++) if (!(times[i]! > times[i - 1]!)) throw new CodecError(`times: time ${i} does not follow time ${i - 1}`);
  return times;
}

function checkConsumed(r: ByteReader): void {
  if (r.remaining !== 0) throw new CodecError(`block: ${r.remaining} bytes after the last column`);
}
