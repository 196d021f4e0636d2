// A metric's raw samples over a range, in time order, read in pages (a window of time at a time, keyset within it):
// a rule dry run replays long ranges without holding them in memory or running one long query.
import { sql, type Kysely } from "kysely";
import type { SamplePoint } from "../rules/types.js";
import type { Database } from "./schema.js";

const WINDOW_MS = 3_600_000;
const PAGE_ROWS = 10_000;

export async function* sampleHistory(db: Kysely<Database>, metric: string, startMs: number, endMs: number): AsyncGenerator<SamplePoint[]> {
  const series = await sql<{ id: string; host: string; labels: Record<string, string> }>`
    SELECT s.id::text, h.name AS host, s.labels FROM series s JOIN hosts h ON h.id = s.host_id WHERE s.metric = ${metric}`.execute(db);
  if (series.rows.length === 0) return;
  const byId = new Map(series.rows.map((s) => [s.id, s]));
  const ids = series.rows.map((s) => s.id);
  for (let from = startMs; from <= endMs; from += WINDOW_MS) {
    const to = Math.min(from + WINDOW_MS, endMs + 1);
    let after: { time: string; id: string } | null = null;
    for (;;) {
      const r: { rows: { sid: string; tt: string; t: number; v: number }[] } = await sql<{ sid: string; tt: string; t: number; v: number }>`
        SELECT x.series_id::text AS sid, x.time::text AS tt, (extract(epoch FROM x.time) * 1000)::float8 AS t, x.value AS v
        FROM samples x
        WHERE x.series_id = ANY(${ids}::bigint[]) AND x.time >= ${new Date(from).toISOString()}::timestamptz AND x.time < ${new Date(to).toISOString()}::timestamptz
          ${after ? sql`AND (x.time, x.series_id) > (${after.time}::timestamptz, ${after.id}::bigint)` : sql``}
        ORDER BY x.time, x.series_id LIMIT ${PAGE_ROWS}`.execute(db);
      if (r.rows.length > 0) {
        yield r.rows.map((x) => {
          const s = byId.get(x.sid)!;
          return { host: s.host, metric, labels: s.labels, timeMs: x.t, value: x.v };
        });
      }
      if (r.rows.length < PAGE_ROWS) break;
      const last = r.rows.at(-1)!;
      after = { time: last.tt, id: last.sid };
    }
  }
}
