// The reference of the storage benchmark: range reads as the collector made them before storage tiers, straight from
// the narrow `samples` table. The chunking and the SQL are those of collector/src/storage/range-reader.ts at 9084357
// (date_bin buckets with the aggregate over the rows, points as JSON text), kept here so the comparison survives.
import { sql, type Kysely } from "kysely";
import { systemClock } from "@vigil/shared";
import type { Database } from "../collector/src/storage/schema.js";
import { readWithin } from "../collector/src/storage/timed-read.js";

const CHUNK_POINTS = 20_000;
const CHUNK_SAMPLES = 200_000;
const MIN_INTERVAL_MS = 1000;

export interface RefSeries {
  id: number;
  intervalMs: number;
}
interface Window {
  fromMs: number;
  toMs: number;
  inclusive: boolean;
}
interface Range {
  startMs: number;
  endMs: number;
  stepMs: number;
}

const estimatedSamples = (s: RefSeries, r: Range) => Math.floor((r.endMs - r.startMs) / Math.max(s.intervalMs, MIN_INTERVAL_MS)) + 1;
const bucketCount = (r: Range) => Math.floor(r.endMs / r.stepMs) - Math.floor(r.startMs / r.stepMs) + 1;

function windowsFor(r: Range, pieces: number): Window[] {
  const aligned = Math.floor(r.startMs / r.stepMs) * r.stepMs;
  const width = Math.max(r.stepMs, Math.ceil((r.endMs - aligned) / pieces / r.stepMs) * r.stepMs);
  const out: Window[] = [];
  for (let from = aligned; ; from += width) {
    const last = from + width >= r.endMs;
    out.push({ fromMs: Math.max(from, r.startMs), toMs: last ? r.endMs : from + width, inclusive: last });
    if (last) return out;
  }
}

function planChunks(series: readonly RefSeries[], r: Range): { ids: number[]; windows: Window[] }[] {
  const whole: Window[] = [{ fromMs: r.startMs, toMs: r.endMs, inclusive: true }];
  const buckets = bucketCount(r);
  const chunks: { ids: number[]; windows: Window[] }[] = [];
  let cur: number[] = [];
  let points = 0;
  let samples = 0;
  const flush = () => {
    if (cur.length > 0) chunks.push({ ids: cur, windows: whole });
    [cur, points, samples] = [[], 0, 0];
  };
  for (const s of series) {
    const cost = estimatedSamples(s, r);
    if (cost > CHUNK_SAMPLES) {
      flush();
      chunks.push({ ids: [s.id], windows: windowsFor(r, Math.ceil(cost / CHUNK_SAMPLES)) });
      continue;
    }
    if (points + buckets > CHUNK_POINTS || samples + cost > CHUNK_SAMPLES) flush();
    cur.push(s.id);
    points += buckets;
    samples += cost;
  }
  flush();
  return chunks;
}

/** The old reader's answer (agg avg): each series' points as a JSON array text. Returns the points read. */
export async function referenceRead(db: Kysely<Database>, series: readonly RefSeries[], r: Range): Promise<number> {
  const step = sql`make_interval(secs => ${r.stepMs / 1000})`;
  // Longer than the API's 30 s: over 100 hosts' 30 days the old reader needs more (the API would answer 503).
  const deadline = Date.now() + 600_000;
  let points = 0;
  for (const chunk of planChunks(series, r)) {
    const parts = new Map<number, string[]>();
    for (const w of chunk.windows) {
      const rows = await readWithin(db, systemClock, deadline, (trx) =>
        sql<{ id: number; points: string }>`
          SELECT b.id, string_agg('[' || b.t || ',' || CASE WHEN b.v = ANY('{Infinity,-Infinity,NaN}'::float8[]) THEN 'null' ELSE b.v::text END || ']', ',' ORDER BY b.t) AS points
          FROM (
            SELECT x.series_id AS id,
                   (extract(epoch FROM date_bin(${step}, x.time, timestamptz 'epoch')) * 1000)::int8 AS t,
                   avg(x.value)::float8 AS v
            FROM samples x
            WHERE x.series_id = ANY(${chunk.ids}::bigint[])
              AND x.time >= ${new Date(w.fromMs).toISOString()}::timestamptz
              AND x.time ${w.inclusive ? sql`<=` : sql`<`} ${new Date(w.toMs).toISOString()}::timestamptz
            GROUP BY x.series_id, t
          ) b
          GROUP BY b.id`.execute(trx),
      );
      for (const row of rows.rows) (parts.get(row.id) ?? parts.set(row.id, []).get(row.id)!).push(row.points);
    }
    for (const id of chunk.ids) {
      const p = parts.get(id);
      // The answer's JSON, built as the old reader's consumer did, then counted.
      if (p) points += (JSON.parse(`[${p.join(",")}]`) as unknown[]).length;
    }
  }
  return points;
}
