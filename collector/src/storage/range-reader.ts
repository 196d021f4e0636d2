// Range queries in bounded pieces: series are chosen by metric (and host, and exact labels) in SQL, page by page,
// and tested against the label matchers in JS; their samples are then read a chunk of series (or, for one long
// series, a window of time) at a time, so neither the collector's memory nor any single statement grows with the
// query. On PGlite, which runs on the event loop, the small statements also keep /healthz and ingest responsive.
import { sql, type Kysely } from "kysely";
import type { Clock, Labels } from "@vigil/shared";
import type { RangeRead, RangeSeries, SelectedSeries, SeriesSelection, SeriesSelector } from "../api/ports.js";
import type { Database } from "./schema.js";
import { readWithin } from "./timed-read.js";

/** Candidate series read per page. */
const PAGE = 5000;
/** Output points (buckets) per statement. */
const CHUNK_POINTS = 20_000;
/** Estimated samples scanned per statement. */
const CHUNK_SAMPLES = 200_000;
/** Hosts declare their interval; never estimate with less than a second (agents sample at most once a second). */
const MIN_INTERVAL_MS = 1000;

const AGGREGATES = {
  avg: sql`avg(x.value)`,
  min: sql`min(x.value)`,
  max: sql`max(x.value)`,
  sum: sql`sum(x.value)`,
  last: sql`(array_agg(x.value ORDER BY x.time DESC))[1]`,
} as const;

/** About how many samples a series holds over the range: what reading it costs. */
export function estimatedSamples(s: SelectedSeries, startMs: number, endMs: number): number {
  return Math.floor((endMs - startMs) / Math.max(s.intervalMs, MIN_INTERVAL_MS)) + 1;
}

/** How many step buckets (date_bin from the epoch) the range touches. */
export function bucketCount(startMs: number, endMs: number, stepMs: number): number {
  return Math.floor(endMs / stepMs) - Math.floor(startMs / stepMs) + 1;
}

interface Window {
  fromMs: number;
  toMs: number;
  /** The last window includes its end; the others end just before it (the next one starts there). */
  inclusive: boolean;
}

export interface Chunk {
  series: SelectedSeries[];
  windows: Window[];
}

/**
 * Splits a read into statements of bounded output and scan: consecutive series share a statement while they fit;
 * a series too long for one is read alone, in step-aligned windows of time (buckets never straddle two windows).
 */
export function planChunks(series: readonly SelectedSeries[], r: Pick<RangeRead, "startMs" | "endMs" | "stepMs">): Chunk[] {
  const whole: Window[] = [{ fromMs: r.startMs, toMs: r.endMs, inclusive: true }];
  const buckets = bucketCount(r.startMs, r.endMs, r.stepMs);
  const chunks: Chunk[] = [];
  let cur: SelectedSeries[] = [];
  let points = 0;
  let samples = 0;
  const flush = () => {
    if (cur.length > 0) chunks.push({ series: cur, windows: whole });
    cur = [];
    points = 0;
    samples = 0;
  };
  for (const s of series) {
    const cost = estimatedSamples(s, r.startMs, r.endMs);
    if (cost > CHUNK_SAMPLES) {
      flush();
      chunks.push({ series: [s], windows: windowsFor(r, Math.ceil(cost / CHUNK_SAMPLES)) });
      continue;
    }
    if (points + buckets > CHUNK_POINTS || samples + cost > CHUNK_SAMPLES) flush();
    cur.push(s);
    points += buckets;
    samples += cost;
  }
  flush();
  return chunks;
}

function windowsFor(r: Pick<RangeRead, "startMs" | "endMs" | "stepMs">, pieces: number): Window[] {
  const aligned = Math.floor(r.startMs / r.stepMs) * r.stepMs;
  const width = Math.max(r.stepMs, Math.ceil((r.endMs - aligned) / pieces / r.stepMs) * r.stepMs);
  const out: Window[] = [];
  for (let from = aligned; ; from += width) {
    const last = from + width >= r.endMs;
    out.push({ fromMs: Math.max(from, r.startMs), toMs: last ? r.endMs : from + width, inclusive: last });
    if (last) return out;
  }
}

export class RangeReader {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async selectSeries(sel: SeriesSelector): Promise<SeriesSelection> {
    const hostNames = [sel.host, sel.exact.host].filter((h): h is string => h !== undefined);
    const labelExact = Object.fromEntries(Object.entries(sel.exact).filter(([k]) => k !== "host"));
    const hostFilter = hostNames.length === 0 ? sql`` : sql.join(hostNames.map((h) => sql`AND h.name = ${h}`), sql` `);
    const labelFilter = Object.keys(labelExact).length === 0 ? sql`` : sql`AND s.labels @> ${JSON.stringify(labelExact)}::jsonb`;
    const pageSize = Math.min(PAGE, sel.maxCandidates + 1);
    const out: SelectedSeries[] = [];
    let examined = 0;
    let after = 0;
    for (;;) {
      const page = await readWithin(this.db, this.clock, sel.deadlineMs, (trx) =>
        sql<{ id: number; labels: Labels; host: string; interval_ms: number }>`
          SELECT s.id, s.labels, h.name AS host, h.interval_ms
          FROM series s JOIN hosts h ON h.id = s.host_id
          WHERE s.metric = ${sel.metric} ${hostFilter} ${labelFilter} AND s.id > ${after}
          ORDER BY s.id LIMIT ${pageSize}`.execute(trx),
      );
      for (const row of page.rows) {
        if (++examined > sel.maxCandidates) return { series: out, overflow: "candidates" };
        const labels = { ...row.labels, host: row.host };
        if (!sel.accept(labels)) continue;
        if (out.length === sel.maxSeries) return { series: out, overflow: "series" };
        out.push({ id: row.id, metric: sel.metric, labels, intervalMs: row.interval_ms });
      }
      if (page.rows.length < pageSize) return { series: out, overflow: null };
      after = page.rows[page.rows.length - 1]!.id;
    }
  }

  async *readRange(series: readonly SelectedSeries[], r: RangeRead): AsyncGenerator<RangeSeries> {
    const step = sql`make_interval(secs => ${r.stepMs / 1000})`;
    for (const chunk of planChunks(series, r)) {
      const ids = chunk.series.map((s) => s.id);
      // Each series' points of each window, as the inside of a JSON array: "[t,v],[t,v]".
      const parts = new Map<number, string[]>();
      for (const w of chunk.windows) {
        const rows = await readWithin(this.db, this.clock, r.deadlineMs, (trx) =>
          sql<{ id: number; points: string }>`
            SELECT b.id, string_agg('[' || b.t || ',' || CASE WHEN b.v = ANY('{Infinity,-Infinity,NaN}'::float8[]) THEN 'null' ELSE b.v::text END || ']', ',' ORDER BY b.t) AS points
            FROM (
              SELECT x.series_id AS id,
                     (extract(epoch FROM date_bin(${step}, x.time, timestamptz 'epoch')) * 1000)::int8 AS t,
                     ${AGGREGATES[r.agg]}::float8 AS v
              FROM samples x
              WHERE x.series_id = ANY(${ids}::bigint[])
                AND x.time >= ${new Date(w.fromMs).toISOString()}::timestamptz
                AND x.time ${w.inclusive ? sql`<=` : sql`<`} ${new Date(w.toMs).toISOString()}::timestamptz
              GROUP BY x.series_id, t
            ) b
            GROUP BY b.id`.execute(trx),
        );
        for (const row of rows.rows) {
          const p = parts.get(row.id);
          if (p) p.push(row.points);
          else parts.set(row.id, [row.points]);
        }
      }
      for (const s of chunk.series) {
        const p = parts.get(s.id);
        if (p) yield { metric: s.metric, labels: s.labels, pointsJson: `[${p.join(",")}]` };
      }
    }
  }
}
