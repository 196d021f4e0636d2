// A metric's raw samples over a range, in time order, read an hour at a time from the compacted blocks and the narrow
// rows alike: a rule dry run replays long ranges without holding them in memory or running one long query.
import { sql, type Kysely } from "kysely";
import type { SamplePoint } from "../rules/types.js";
import { CodecError, decodeRaw } from "./codec/index.js";
import type { Database } from "./schema.js";
import { readBlocks, readNarrow } from "./tiers/block-rows.js";
import { mergeRaw, sliceRaw, type RawPoints } from "./tiers/points.js";
import { TIERS } from "./tiers/tier-spec.js";

const WINDOW_MS = 3_600_000;
const PAGE_POINTS = 2000;

export async function* sampleHistory(db: Kysely<Database>, metric: string, startMs: number, endMs: number): AsyncGenerator<SamplePoint[]> {
  const series = await sql<{ id: number; host: string; labels: Record<string, string> }>`
    SELECT s.id, h.name AS host, s.labels FROM series s JOIN hosts h ON h.id = s.host_id WHERE s.metric = ${metric} ORDER BY s.id`.execute(db);
  if (series.rows.length === 0) return;
  const ids = series.rows.map((s) => s.id);
  // Windows (from, to]; the first starts just before startMs so that a sample at startMs is in it.
  for (let from = startMs - 1; from < endMs; from += WINDOW_MS) {
    const to = Math.min(from + WINDOW_MS, endMs);
    const narrow = await readNarrow(db, ids, from, to);
    const blocks = new Map<number, RawPoints[]>();
    for (const b of await readBlocks(db, TIERS.raw, ids, from, to)) {
      try {
        (blocks.get(b.seriesId) ?? blocks.set(b.seriesId, []).get(b.seriesId)!).push(decodeRaw(b.data));
      } catch (err) {
        // A block that cannot be decoded is left out (the range answer and maintenance report it).
        if (!(err instanceof CodecError)) throw err;
      }
    }
    const per = series.rows.map((s) => {
      const n = narrow.get(s.id);
      return sliceRaw(mergeRaw([...(blocks.get(s.id) ?? []), ...(n ? [n] : [])]), from, to);
    });
    // Ordered by time across series (ties in series order), yielded in pages.
    const order: [t: number, series: number, i: number][] = [];
    per.forEach((p, si) => p.times.forEach((t, i) => order.push([t, si, i])));
    order.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let page: SamplePoint[] = [];
    for (const [t, si, i] of order) {
      const s = series.rows[si]!;
      page.push({ host: s.host, metric, labels: s.labels, timeMs: t, value: per[si]!.values[i]! });
      if (page.length === PAGE_POINTS) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  }
}
