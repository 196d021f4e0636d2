import type { Batch } from "@vigil/proto";
import { CollectorError, CollectorErrors } from "../errors.js";

export interface ValidatedPoints {
  refs: number[];
  values: number[];
  /** Points dropped because their value was NaN or ±Infinity. */
  nonFinite: number;
}

/**
 * Checks a batch's shape (a malformed batch is a protocol error naming its seq) and drops non-finite points,
 * which Postgres would store but no aggregate could use; the rest of the batch is kept.
 */
export function validateBatch(b: Batch, declared: ReadonlyMap<number, unknown>): ValidatedPoints {
  if (b.refs.length !== b.values.length) {
    throw new CollectorError(CollectorErrors.PROTOCOL, `batch seq ${b.seq}: ${b.refs.length} refs but ${b.values.length} values`);
  }
  if (b.timeMs <= 0n) throw new CollectorError(CollectorErrors.PROTOCOL, `batch seq ${b.seq}: time_ms must be positive, got ${b.timeMs}`);
  const refs: number[] = [];
  const values: number[] = [];
  let nonFinite = 0;
  for (let i = 0; i < b.refs.length; i++) {
    const ref = b.refs[i]!;
    if (!declared.has(ref)) throw new CollectorError(CollectorErrors.PROTOCOL, `batch seq ${b.seq}: series ref ${ref} was never declared on this stream`);
    const v = b.values[i]!;
    if (!Number.isFinite(v)) {
      nonFinite++;
      continue;
    }
    refs.push(ref);
    values.push(v);
  }
  return { refs, values, nonFinite };
}
