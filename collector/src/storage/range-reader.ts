// Range queries in bounded pieces: series are chosen by metric (and host, and exact labels) in SQL, page by page,
// and tested against the label matchers in JS; their samples are then read a chunk of series (or, for one long
// series, a window of time) at a time, so neither the collector's memory nor any single statement grows with the
// query. On PGlite, which runs on the event loop, the small statements also keep /healthz and ingest responsive.
import { sql, type Kysely } from "kysely";
import type { Clock, Labels } from "@vigil/shared";
import type { RangeRead, SelectedSeries, SeriesSelection, SeriesSelector } from "../api/ports.js";
import type { Database } from "./schema.js";
import { readWithin } from "./timed-read.js";

/** Candidate series read per page. */
const PAGE = 5000;
/** Output points per statement. */
const CHUNK_POINTS = 20_000;
/** Estimated samples (or rollup buckets) read per statement. */
const CHUNK_SAMPLES = 200_000;
/** Hosts declare their interval; never estimate with less than a second (agents sample at most once a second). */
const MIN_INTERVAL_MS = 1000;

/** About how many stored points a series holds over the range at this spacing: what reading it costs. */
export function estimatedSamples(spacingMs: number, startMs: number, endMs: number): number {
  return Math.floor((endMs - startMs) / Math.max(spacingMs, MIN_INTERVAL_MS)) + 1;
}

/** How many points (multiples of the step) the range holds. */
export function bucketCount(startMs: number, endMs: number, stepMs: number): number {
  return Math.max(0, Math.floor(endMs / stepMs) - Math.ceil(startMs / stepMs) + 1);
}

/** A piece of the range, `(fromMs, toMs]`, both multiples of the step. */
export interface Window {
  fromMs: number;
  toMs: number;
}

export interface Chunk {
  series: SelectedSeries[];
  windows: Window[];
}

/**
 * Splits a read into statements of bounded output and scan: consecutive series share a statement while they fit;
 * a series too long for one is read alone, in step-aligned windows of time (a point's samples never straddle two).
 * `spacingOf` is how far apart a series' stored points are in the tier being read.
 */
export function planChunks(series: readonly SelectedSeries[], r: Pick<RangeRead, "startMs" | "endMs" | "stepMs">, spacingOf: (s: SelectedSeries) => number = (s) => s.intervalMs): Chunk[] {
  const first = Math.ceil(r.startMs / r.stepMs) * r.stepMs;
  const last = Math.floor(r.endMs / r.stepMs) * r.stepMs;
  const whole: Window[] = [{ fromMs: first - r.stepMs, toMs: last }];
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
    const cost = estimatedSamples(spacingOf(s), r.startMs, r.endMs);
    if (cost > CHUNK_SAMPLES) {
      flush();
      chunks.push({ series: [s], windows: windowsFor(whole[0]!, r.stepMs, Math.ceil(cost / CHUNK_SAMPLES)) });
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

function windowsFor(whole: Window, stepMs: number, pieces: number): Window[] {
  const width = Math.max(stepMs, Math.ceil((whole.toMs - whole.fromMs) / pieces / stepMs) * stepMs);
  const out: Window[] = [];
  for (let from = whole.fromMs; from < whole.toMs; from += width) out.push({ fromMs: from, toMs: Math.min(from + width, whole.toMs) });
  return out;
}

/** Chooses a metric's series for a range query. */
export class SeriesSelect {
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
}
