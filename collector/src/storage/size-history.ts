// The database's size over time, to measure its growth: one row per UTC day, written by the first maintenance run of
// the day. Growth per day compares the size now with the size about a week ago: a week smooths out the daily rhythm
// of compaction and retention (a partition dropped each day), and a day is the least history that says anything.
import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.js";

const DAY = 86_400_000;
/** How far back growth looks, when the history reaches that far. */
export const GROWTH_WINDOW_MS = 7 * DAY;
/** Less history than this gives no growth figure. */
export const MIN_HISTORY_MS = DAY;
/** Rows older than this are deleted: well past the window, a few dozen rows. */
const KEEP_MS = 30 * DAY;

export interface SizeMeasure {
  timeMs: number;
  bytes: number;
}

export interface Growth {
  bytesPerDay: number | null;
  /** The measure growth is counted from. */
  sinceMs: number | null;
  /** Why bytesPerDay is null. */
  reason: string | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Stores the database's size now, unless today's is stored already; forgets old rows. */
export async function recordDatabaseSize(db: Kysely<Database>, nowMs: number): Promise<void> {
  await sql`
    INSERT INTO storage_history (day, time, database_bytes)
    VALUES (${iso(nowMs).slice(0, 10)}::date, ${iso(nowMs)}::timestamptz, pg_database_size(current_database()))
    ON CONFLICT (day) DO NOTHING`.execute(db);
  await sql`DELETE FROM storage_history WHERE time < ${iso(nowMs - KEEP_MS)}::timestamptz`.execute(db);
}

/** The stored sizes, oldest first. */
export async function readSizeHistory(db: Kysely<Database>): Promise<SizeMeasure[]> {
  const r = await sql<{ t: number; b: number }>`
    SELECT (extract(epoch FROM time) * 1000)::float8 AS t, database_bytes::float8 AS b FROM storage_history ORDER BY time`.execute(db);
  return r.rows.map((row) => ({ timeMs: row.t, bytes: row.b }));
}

/** Bytes per day from the newest measure at least a week old, else from the oldest one at least a day old. */
export function growthPerDay(history: readonly SizeMeasure[], now: SizeMeasure): Growth {
  const usable = history.filter((h) => now.timeMs - h.timeMs >= MIN_HISTORY_MS);
  if (usable.length === 0) {
    const reason = history.length === 0 ? "no size history yet; the first storage maintenance run of each day records one" : `less than a day of size history (it starts ${iso(history[0]!.timeMs)})`;
    return { bytesPerDay: null, sinceMs: null, reason };
  }
  const weekOld = usable.filter((h) => now.timeMs - h.timeMs >= GROWTH_WINDOW_MS);
  const base = weekOld.length > 0 ? weekOld[weekOld.length - 1]! : usable[0]!;
  return { bytesPerDay: ((now.bytes - base.bytes) * DAY) / (now.timeMs - base.timeMs), sinceMs: base.timeMs, reason: null };
}
