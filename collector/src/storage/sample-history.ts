// A metric's raw samples over a range, in time order, read in pages (an hour at a time, keyset within it): a rule dry
// run replays long ranges without holding them in memory or running one long query.
import { sql, type Kysely } from "kysely";
import type { SamplePoint } from "../rules/types.js";
import type { Database } from "./schema.js";

const WINDOW_MS = 3_600_000;
const PAGE_ROWS = 2000;

export async function* sampleHistory(db: Kysely<Database>, metric: string, startMs: number, endMs: number): AsyncGenerator<SamplePoint[]> {
  const series = await db
    .selectFrom("series as s")
    .innerJoin("hosts as h", "h.id", "s.host_id")
    .select(["s.id", "h.name as host", "s.labels"])
    .where("s.metric", "=", metric)
    .execute();
  if (series.length === 0) return;
  const byId = new Map(series.map((s) => [s.id, s]));
  const ids = series.map((s) => s.id);
  for (let from = startMs; from <= endMs; from += WINDOW_MS) {
    const to = Math.min(from + WINDOW_MS, endMs + 1);
    // Keyset: times as float ms keep sub-millisecond digits, so to_timestamp(ms / 1000) finds the exact row again.
    let after: { t: number; id: number } | null = null;
    for (;;) {
      // One packed bytea per page (series id, time ms, value as float8 each): three numbers per sample and no row
      // objects, so replaying a long range makes little garbage.
      const r: { rows: { n: number; packed: Uint8Array | null }[] } = await sql<{ n: number; packed: Uint8Array | null }>`
        SELECT count(*)::int AS n, string_agg(float8send(sid) || float8send(t) || float8send(v), ''::bytea ORDER BY t, sid) AS packed FROM (
          SELECT x.series_id::float8 AS sid, (extract(epoch FROM x.time) * 1000)::float8 AS t, x.value AS v, x.time AS time
          FROM samples x
          WHERE x.series_id = ANY(${ids}::bigint[]) AND x.time >= ${new Date(from).toISOString()}::timestamptz AND x.time < ${new Date(to).toISOString()}::timestamptz
            ${after ? sql`AND (x.time, x.series_id) > (to_timestamp(${after.t}::float8 / 1000), ${after.id}::bigint)` : sql``}
          ORDER BY x.time, x.series_id LIMIT ${PAGE_ROWS}) page`.execute(db);
      const n = r.rows[0]?.n ?? 0;
      const packed = r.rows[0]?.packed;
      if (n > 0 && packed) {
        const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
        const page: SamplePoint[] = new Array(n);
        for (let i = 0; i < n; i++) {
          const s = byId.get(view.getFloat64(i * 24))!;
          page[i] = { host: s.host, metric, labels: s.labels, timeMs: view.getFloat64(i * 24 + 8), value: view.getFloat64(i * 24 + 16) };
        }
        yield page;
        after = { t: page[n - 1]!.timeMs, id: view.getFloat64((n - 1) * 24) };
      }
      if (n < PAGE_ROWS) break;
    }
  }
}
