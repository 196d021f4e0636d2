// Hand-written float column of the block codec (see index.ts for why no library): the layout for values that are
// neither integers nor small-denominator fractions, after mantissa rounding (see float-bits.ts). Two layouts, the
// encoder keeps whichever deflates smaller:
// - XOR-shuffled, Gorilla's idea made byte-aligned: each value's bits XORed with the previous value's, the eight
//   bytes of the results stored as eight planes (all byte 0s, then all byte 1s, ...), like Blosc's shuffle. Repeats
//   give zero words, a slowly moving value keeps its sign and exponent bytes zero, and rounding zeroes the low
//   planes; planes that are entirely zero are left out (a mask byte says which are present). Best for slowly moving
//   values (an uptime forced through floats: 0.45 B a value against 1.69 plain) and for measured latencies at 32
//   bits or fewer.
// - Plain: the doubles' own bytes. Best for sums and averages of fractions (rollups): their binary expansions repeat
//   (x and 2x share a mantissa, p/q's bits are periodic), and deflate matches whole 8-byte runs that XOR and
//   shuffling would break apart. Measured on the 1-minute sums of bench/codec-host.ts: 4.1 B a value plain against
//   5.9 XOR-shuffled at 52 bits, 2.7 against 3.1 at 24.
import { deflateRawSync } from "node:zlib";
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { CodecError } from "./codec-error.js";
import { roundMantissa } from "./float-bits.js";

const Layout = { XorShuffled: 1, Plain: 2 } as const;

/** Worst-case bytes of a column of `n` values: layout byte, plane mask, then 8 bytes a value. */
export const floatColumnBound = (n: number): number => 2 + 8 * n;

/** Deflate level of the trial that picks the layout: on the benchmark, level 1 picks as level 6 does, in less time. */
const TRIAL_LEVEL = 1;

export function writeFloats(w: ByteWriter, values: ArrayLike<number>, mantissaBits: number): void {
  const n = values.length;
  const doubles = new Float64Array(n);
  for (let i = 0; i < n; i++) doubles[i] = roundMantissa(values[i]!, mantissaBits);
  const plain = new Uint8Array(doubles.buffer);
  const shuffled = xorShuffle(doubles);
  // Deciding by the compressed sizes costs two extra deflates of one column; float columns are few.
  if (deflateRawSync(plain, { level: TRIAL_LEVEL }).length < deflateRawSync(shuffled, { level: TRIAL_LEVEL }).length) {
    w.byte(Layout.Plain);
    w.bytes(plain);
  } else {
    w.byte(Layout.XorShuffled);
    w.bytes(shuffled);
  }
}

export function readFloats(r: ByteReader, out: Float64Array, what: string): void {
  const n = out.length;
  const layout = r.byte(`${what} float layout`);
  const bytes = new Uint8Array(out.buffer, out.byteOffset, 8 * n);
  if (layout === Layout.Plain) {
    bytes.set(r.bytes(8 * n, `${what} doubles`));
    return;
  }
  if (layout !== Layout.XorShuffled) throw new CodecError(`${what}: unknown float layout ${layout}`);
  const mask = r.byte(`${what} plane mask`);
  bytes.fill(0);
  for (let j = 0; j < 8; j++) {
    if (!(mask & (1 << j))) continue;
    const plane = r.bytes(n, `${what} byte plane ${j}`);
    for (let i = 0; i < n; i++) bytes[8 * i + j] = plane[i]!;
  }
  const words = new Uint32Array(out.buffer, out.byteOffset, 2 * n);
  for (let i = 2; i < 2 * n; i++) words[i]! ^= words[i - 2]!;
}

/** The plane mask, then the planes present, of the XORs of neighbouring values. */
function xorShuffle(doubles: Float64Array): Uint8Array {
  const n = doubles.length;
  const words = new Uint32Array(doubles.length * 2);
  words.set(new Uint32Array(doubles.buffer));
  for (let i = 2 * n - 1; i >= 2; i--) words[i]! ^= words[i - 2]!;
  const bytes = new Uint8Array(words.buffer);
  let mask = 0;
  for (let i = 0; i < 8 * n; i++) if (bytes[i]) mask |= 1 << i % 8;
  let planes = 0;
  for (let j = 0; j < 8; j++) if (mask & (1 << j)) planes++;
  const out = new Uint8Array(1 + planes * n);
  out[0] = mask;
  let o = 1;
  for (let j = 0; j < 8; j++) {
    if (!(mask & (1 << j))) continue;
    for (let i = 0; i < n; i++) out[o++] = bytes[8 * i + j]!;
  }
  return out;
}
