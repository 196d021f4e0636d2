import { sql, type RawBuilder } from "kysely";
import type { CheckRun } from "../ingest/ports.js";

export type HostCheckRun = CheckRun & { hostId: number };

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The statements that store check runs, as named data-modifying CTEs for `insertSamples`, so they commit with their
 * batch's samples: history (idempotent on replay), and each check's current state moved forward (`since` changes only
 * when the status does, and a replayed older run never overwrites a newer state).
 */
export function checkRunWrites(runs: HostCheckRun[]): RawBuilder<unknown>[] {
  if (runs.length === 0) return [];
  // One upsert row per check: the latest run of this commit (an upsert may not touch a row twice).
  const latest = new Map<string, HostCheckRun>();
  for (const r of runs) {
    const key = `${r.hostId}\u0000${r.name}`;
    const cur = latest.get(key);
    if (!cur || cur.timeMs <= r.timeMs) latest.set(key, r);
  }
  const rows = [...latest.values()];
  return [
    sql`check_history AS (
      INSERT INTO check_results (time, host_id, name, kind, status, duration_seconds, message)
      SELECT t::timestamptz, h, n, k, s, d, m
      FROM unnest(${runs.map((r) => iso(r.timeMs))}::text[], ${runs.map((r) => r.hostId)}::int[], ${runs.map((r) => r.name)}::text[],
                  ${runs.map((r) => r.kind)}::text[], ${runs.map((r) => r.status)}::smallint[], ${runs.map((r) => r.durationSeconds)}::float8[],
                  ${runs.map((r) => r.message)}::text[]) AS u(t, h, n, k, s, d, m)
      ON CONFLICT DO NOTHING)`,
    sql`check_now AS (
      INSERT INTO check_state AS c (host_id, name, kind, status, since, last_time, duration_seconds, message)
      SELECT h, n, k, s, t::timestamptz, t::timestamptz, d, m
      FROM unnest(${rows.map((r) => r.hostId)}::int[], ${rows.map((r) => r.name)}::text[], ${rows.map((r) => r.kind)}::text[],
                  ${rows.map((r) => r.status)}::smallint[], ${rows.map((r) => iso(r.timeMs))}::text[], ${rows.map((r) => r.durationSeconds)}::float8[],
                  ${rows.map((r) => r.message)}::text[]) AS u(h, n, k, s, t, d, m)
      ON CONFLICT (host_id, name) DO UPDATE SET
        kind = excluded.kind,
        status = excluded.status,
        since = CASE WHEN c.status = excluded.status THEN c.since ELSE excluded.last_time END,
        last_time = excluded.last_time,
        duration_seconds = excluded.duration_seconds,
        message = excluded.message
      WHERE c.last_time <= excluded.last_time)`,
  ];
}
