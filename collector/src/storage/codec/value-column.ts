// Hand-written value column of the block codec (see index.ts for why no library): picks the integer, rational or
// float layout per column and tags it with a mode byte.
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { CodecError } from "./codec-error.js";
import { floatColumnBound, readFloats, writeFloats } from "./float-column.js";
import { intColumnBound, isIntColumn, readInts, writeInts } from "./int-column.js";
import { rationalColumnBound, rationalSplit, readRationals, writeRationals } from "./rational-column.js";

const Mode = { Int: 1, Rational: 2, Float: 3 } as const;

/** Worst-case bytes of a value column of `n` values, whatever its mode. */
export const valueColumnBound = (n: number): number => 1 + Math.max(intColumnBound(n), rationalColumnBound(n), floatColumnBound(n));

/**
 * The first layout that applies, exact ones first: on bench/codec-host.ts they were smaller than the float layout on
 * every column at 52 bits, and at 16 bits lost only on slowly moving ratios (0.5 against 0.3 B a sample).
 */
export function writeValues(w: ByteWriter, values: ArrayLike<number>, mantissaBits: number): void {
  if (isIntColumn(values)) {
    w.byte(Mode.Int);
    writeInts(w, values);
    return;
  }
  const rationals = rationalSplit(values);
  if (rationals !== undefined) {
    w.byte(Mode.Rational);
    writeRationals(w, rationals);
    return;
  }
  w.byte(Mode.Float);
  writeFloats(w, values, mantissaBits);
}

export function readValues(r: ByteReader, out: Float64Array, what: string): void {
  const mode = r.byte(`${what} mode`);
  if (mode === Mode.Int) readInts(r, out, what);
  else if (mode === Mode.Rational) readRationals(r, out, what);
  else if (mode === Mode.Float) readFloats(r, out, what);
  else throw new CodecError(`${what}: unknown value mode ${mode}`);
}
