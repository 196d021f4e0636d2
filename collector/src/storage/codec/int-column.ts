// Hand-written integer column of the block codec (see index.ts for why no library): timestamps, rollup counts, values
// that are all safe integers (byte gauges, counters), and the numerators and denominators of rational columns.
//
// Layout: order (1 or 2), scale g (uvarint), the first value, for order 2 the first delta / g, then the remaining
// deltas (order 1) or deltas of deltas (order 2) divided by g, all signed varints. Order 2 turns steady ticks and
// counters with a steady rate into zeros; order 1 suits gauges that wander. g, the gcd of the deltas, removes the
// zero bits of page-aligned memory sizes (4096) or of a fixed step (10,000 ms), which deflate cannot see through.
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { CodecError } from "./codec-error.js";

/** Worst-case bytes of a column of `n` values: order byte, scale, then at most 8 bytes a value. */
export const intColumnBound = (n: number): number => 1 + 8 + 8 * n;

/** Whether every value is a safe integer (not -0) and every step between neighbours is one too. */
export function isIntColumn(values: ArrayLike<number>): boolean {
  let prev = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isSafeInteger(v) || Object.is(v, -0)) return false;
    if (i > 0 && !Number.isSafeInteger(v - prev)) return false;
    prev = v;
  }
  return true;
}

/** Writes `values`, which must pass `isIntColumn`, in the order giving fewer varint bytes (a cheap stand-in for deflated size). */
export function writeInts(w: ByteWriter, values: ArrayLike<number>): void {
  const n = values.length;
  const d1 = new Float64Array(Math.max(0, n - 1));
  let g = 0;
  for (let i = 1; i < n; i++) g = gcd(g, Math.abs((d1[i - 1] = values[i]! - values[i - 1]!)));
  if (g === 0) g = 1;
  // Second-order deltas of safe deltas can leave the safe range; order 2 is then not an option.
  let size1 = 0;
  let size2 = 0;
  let order2 = n > 2;
  for (let i = 0; i < d1.length; i++) {
    size1 += svarintSize(d1[i]! / g);
    if (i === 0) continue;
    const dd = d1[i]! - d1[i - 1]!;
    if (!Number.isSafeInteger(dd)) order2 = false;
    size2 += svarintSize(dd / g);
  }
  order2 &&= size2 + svarintSize(d1[0]! / g) < size1;
  w.byte(order2 ? 2 : 1);
  w.uvarint(g);
  if (n === 0) return;
  w.svarint(values[0]!);
  if (order2) {
    w.svarint(d1[0]! / g);
    for (let i = 1; i < d1.length; i++) w.svarint((d1[i]! - d1[i - 1]!) / g);
  } else {
    for (let i = 0; i < d1.length; i++) w.svarint(d1[i]! / g);
  }
}

/** Reads `out.length` values written by `writeInts`; each must stay a safe integer. */
export function readInts(r: ByteReader, out: Float64Array, what: string): void {
  const order = r.byte(`${what} order`);
  if (order !== 1 && order !== 2) throw new CodecError(`${what}: unknown delta order ${order}`);
  const g = r.uvarint(`${what} scale`);
  if (g === 0) throw new CodecError(`${what}: scale 0`);
  const n = out.length;
  if (n === 0) return;
  let v = r.svarint(what);
  out[0] = v;
  const buf = r.buf;
  let p = r.pos;
  let d = 0;
  for (let i = 1; i < n; i++) {
    // Most deltas fit one or two bytes: read those inline, the rest through the reader (which checks the end of the
    // buffer). The layout is ByteWriter.svarint's.
    const b = buf[p];
    const b2 = buf[p + 1];
    let x: number;
    if (b !== undefined && b < 0x80) {
      p++;
      x = b & 0x40 ? 0 - (b & 0x3f) : b;
    } else if (b !== undefined && b2 !== undefined && b2 < 0x80) {
      p += 2;
      const m = (b & 0x3f) | (b2 << 6);
      x = b & 0x40 ? 0 - m : m;
    } else {
      r.pos = p;
      x = r.svarint(what);
      p = r.pos;
    }
    d = order === 2 && i > 1 ? d + g * x : g * x;
    v += d;
    // Bounds checked here keep later sums exact and reject a corrupt stream early.
    if (v > Number.MAX_SAFE_INTEGER || v < -Number.MAX_SAFE_INTEGER || d > Number.MAX_SAFE_INTEGER || d < -Number.MAX_SAFE_INTEGER) {
      throw new CodecError(`${what}: value ${i} leaves the safe integer range`);
    }
    out[i] = v;
  }
  r.pos = p;
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

function svarintSize(v: number): number {
  const m = Math.abs(v);
  if (m < 64) return 1;
  if (m < 8192) return 2;
  if (m < 2 ** 20) return 3;
  if (m < 2 ** 27) return 4;
  if (m < 2 ** 34) return 5;
  if (m < 2 ** 41) return 6;
  return m < 2 ** 48 ? 7 : 8;
}
