// Hand-written float64 bit handling for the block codec (see index.ts for why no library): the mantissa rounding that
// makes lossy blocks small, on the two 32-bit halves of a double.
//
// Error bound. A normal double is v = ±1.f × 2^e with 52 bits of f. Keeping K bits rounds f to the nearest multiple of
// 2^-K (ties away from zero), so |r − v| ≤ 2^(e−K−1) ≤ |v| × 2^−(K+1), as |v| ≥ 2^e. A carry out of f gives 2^(e+1),
// still within the bound. The tests check the 2^−(K+1) bound. Values that stay exact instead: safe integers (counters
// and gauges in bytes), zeros and subnormals (rounding them would break the relative bound), NaN and ±Infinity, and
// the few values just below Number.MAX_VALUE whose rounding would overflow to Infinity.

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error("the block codec assumes a little-endian host");

const scratch = new Float64Array(1);
const halves = new Uint32Array(scratch.buffer);

/** Width of a double's fraction field: `mantissaBits` = 52 keeps every value exact. */
export const MANTISSA_BITS = 52;

/** `v` with its fraction rounded to the nearest `bits` bits (1..52), or `v` itself when it stays exact (see above). */
export function roundMantissa(v: number, bits: number): number {
  if (bits >= MANTISSA_BITS || Number.isSafeInteger(v)) return v;
  scratch[0] = v;
  let lo = halves[0]!;
  let hi = halves[1]!;
  const exp = (hi >>> 20) & 0x7ff;
  if (exp === 0 || exp === 0x7ff) return v;
  const drop = MANTISSA_BITS - bits;
  if (drop <= 32) {
    // Add half of the dropped unit; a carry out of the low half goes into the high half (and may reach the exponent).
    const sum = lo + 2 ** (drop - 1);
    if (sum >= 0x1_0000_0000) hi++;
    lo = drop === 32 ? 0 : (sum & ~(2 ** drop - 1)) >>> 0;
  } else {
    // The half unit is in the high half; the low half is entirely below it, so it cannot change the result.
    const hiDrop = drop - 32;
    hi = ((hi + 2 ** (hiDrop - 1)) & ~(2 ** hiDrop - 1)) >>> 0;
    lo = 0;
  }
  if (((hi >>> 20) & 0x7ff) === 0x7ff) return v;
  halves[0] = lo;
  halves[1] = hi;
  return scratch[0]!;
}
