import { sql, type Kysely, type RawBuilder } from "kysely";
import type { Database } from "./schema.js";

/** A commit's sample rows, as parallel arrays for `unnest`. */
export interface CommitRows {
  count: number;
  times: Float64Array;
  ids: number[];
  values: number[];
  /** For each row, the index of the batch it came from. */
  batchOf: Uint32Array;
  /** Per batch: its points that repeat an earlier batch's (series, time) in this commit with another value. */
  conflicts: number[];
}

/**
 * Flattens batches into rows, keeping each (series, time) once: Postgres refuses a row twice in one upsert, and two
 * batches of one host at one time (a resend queued beside its original) would otherwise put it there.
 */
export function commitRows(batches: readonly { hostId: number; timeMs: number; seriesIds: number[]; values: number[] }[]): CommitRows {
  let total = 0;
  const perTime = new Map<string, number>();
  for (const b of batches) {
    total += b.seriesIds.length;
    const k = `${b.hostId}:${b.timeMs}`;
    perTime.set(k, (perTime.get(k) ?? 0) + 1);
  }
  const times = new Float64Array(total);
  const ids = new Array<number>(total);
  const values = new Array<number>(total);
  const batchOf = new Uint32Array(total);
  const conflicts = batches.map(() => 0);
  // Series already taken at a repeated (host, time): series id → value. Built only for repeats, rare.
  const taken = new Map<string, Map<number, number>>();
  let n = 0;
  batches.forEach((b, bi) => {
    const k = `${b.hostId}:${b.timeMs}`;
    const seen = perTime.get(k)! > 1 ? (taken.get(k) ?? taken.set(k, new Map()).get(k)!) : undefined;
    for (let j = 0; j < b.seriesIds.length; j++) {
      const id = b.seriesIds[j]!;
      const v = b.values[j]!;
      if (seen) {
        const prev = seen.get(id);
        if (prev !== undefined) {
          if (!Object.is(prev, v)) conflicts[bi]!++;
          continue;
        }
        seen.set(id, v);
      }
      times[n] = b.timeMs;
      ids[n] = id;
      values[n] = v;
      batchOf[n] = bi;
      n++;
    }
  });
  ids.length = n;
  values.length = n;
  return { count: n, times: times.subarray(0, n), ids, values, batchOf, conflicts };
}

// Array literals built by join: pg's generic per-element escaping was ~30% of the collector's CPU at full ingest.
// Only finite numbers get here (ingest drops NaN/Inf), and their JS text form is valid Postgres input.
const arrayLiteral = (xs: ArrayLike<number>) => `{${Array.prototype.join.call(xs, ",")}}`;

/**
 * The idempotent bulk insert, shared with the ingest benchmark's raw reference so both measure the same SQL. Returns
 * how many rows were new: fewer than given means some (series, time) were stored already. `alongside`: named
 * data-modifying CTEs (`name AS (UPDATE …)`) that commit with the rows, in the same statement: one round trip.
 */
export async function insertSamples(
  db: Kysely<Database>,
  timesMs: ArrayLike<number>,
  seriesIds: ArrayLike<number>,
  values: ArrayLike<number>,
  alongside: readonly RawBuilder<unknown>[] = [],
): Promise<number> {
  const r = await sql`${alongside.length > 0 ? sql`WITH ${sql.join(alongside)}` : sql``}
    INSERT INTO samples (time, series_id, value)
    SELECT to_timestamp(t / 1000.0), s, v
    FROM unnest(${arrayLiteral(timesMs)}::float8[], ${arrayLiteral(seriesIds)}::bigint[], ${arrayLiteral(values)}::float8[]) AS u(t, s, v)
    ON CONFLICT DO NOTHING`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}

/** The rows (0-based indexes) whose stored point at the same (series, time) has another value. */
export async function conflictingSamples(db: Kysely<Database>, timesMs: ArrayLike<number>, seriesIds: ArrayLike<number>, values: ArrayLike<number>): Promise<number[]> {
  const r = await sql<{ i: number }>`
    SELECT (u.i - 1)::int AS i
    FROM unnest(${arrayLiteral(timesMs)}::float8[], ${arrayLiteral(seriesIds)}::bigint[], ${arrayLiteral(values)}::float8[]) WITH ORDINALITY AS u(t, s, v, i)
    JOIN samples x ON x.series_id = u.s AND x.time = to_timestamp(u.t / 1000.0)
    WHERE x.value IS DISTINCT FROM u.v`.execute(db);
  return r.rows.map((x) => x.i);
}
