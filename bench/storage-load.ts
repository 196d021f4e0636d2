// Database helpers of the storage benchmark: hosts and series as the collector registers them, narrow rows written
// with the collector's own bulk insert, and the bytes a table's partitions take.
import { readdirSync, readFileSync } from "node:fs";
import { sql, type Kysely } from "kysely";
import { PartitionManager } from "../collector/src/storage/partitions.js";
import { insertSamples } from "../collector/src/storage/sample-writer.js";
import type { Database } from "../collector/src/storage/schema.js";

export const TICK_MS = 10_000;
export const DAY_MS = 86_400_000;
/** Rows per INSERT: big statements, as the collector's coalesced commits are (up to 20,000 rows). */
const BATCH_ROWS = 50_000;
/** Statements in flight: the server works on one while the next is generated. */
const IN_FLIGHT = 2;

export interface SeriesDef {
  metric: string;
  labels: Record<string, string>;
}

/** Makes `hosts` hosts named `${prefix}${i}`, each with these series; returns the series ids, [host][series]. */
export async function createHosts(db: Kysely<Database>, prefix: string, hosts: number, series: readonly SeriesDef[]): Promise<number[][]> {
  const names = Array.from({ length: hosts }, (_, i) => `${prefix}${i}`);
  const made = await sql<{ id: number; name: string }>`
    INSERT INTO hosts (name, agent_id, interval_ms, cpu_count, os) SELECT n, n, ${TICK_MS}, 2, 'linux' FROM unnest(${names}::text[]) n
    RETURNING id, name`.execute(db);
  const hostId = new Map(made.rows.map((r) => [r.name, r.id]));
  const out: number[][] = [];
  for (const name of names) {
    const r = await sql<{ id: number }>`
      INSERT INTO series (host_id, metric, labels)
      SELECT ${hostId.get(name)!}, m, l::jsonb FROM unnest(${series.map((s) => s.metric)}::text[], ${series.map((s) => JSON.stringify(s.labels))}::text[]) WITH ORDINALITY AS u(m, l, i)
      ORDER BY i RETURNING id`.execute(db);
    out.push(r.rows.map((x) => x.id));
  }
  return out;
}

/**
 * Writes ticks `firstMs, firstMs + 10 s, …` (count `ticks`) in time order, as agents do: each tick, `rowsOf(t, put)`
 * puts that tick's rows. Returns the rows written.
 */
export async function writeTicks(
  db: Kysely<Database>,
  firstMs: number,
  ticks: number,
  rowsOf: (timeMs: number, put: (seriesId: number, value: number) => void) => void,
): Promise<number> {
  const parts = new PartitionManager(db, false);
  const lastMs = firstMs + (ticks - 1) * TICK_MS;
  const days: number[] = [lastMs];
  for (let t = firstMs; t < lastMs; t += DAY_MS) days.push(t);
  await parts.ensureFor(days);
  let times: number[] = [];
  let ids: number[] = [];
  let values: number[] = [];
  let rows = 0;
  const pending = new Set<Promise<unknown>>();
  const flush = async () => {
    if (times.length === 0) return;
    const p = insertSamples(db, times, ids, values);
    rows += times.length;
    [times, ids, values] = [[], [], []];
    pending.add(p);
    const done = () => pending.delete(p);
    p.then(done, done); // its failure is seen by the race or the final wait
    if (pending.size >= IN_FLIGHT) await Promise.race(pending);
  };
  for (let k = 0; k < ticks; k++) {
    const t = firstMs + k * TICK_MS;
    rowsOf(t, (id, v) => {
      times.push(t);
      ids.push(id);
      values.push(v);
    });
    if (times.length >= BATCH_ROWS) await flush();
  }
  await flush();
  await Promise.all(pending);
  return rows;
}

export interface TableBytes {
  /** Heap, TOAST, free-space and visibility maps, indexes. */
  total: number;
  indexes: number;
  toast: number;
  /** Live rows, and for block tables the samples (or buckets) they hold and the bytes of their `data`. */
  rows: number;
  points: number;
  data: number;
}

/** What the partitions of `table` take on disk (pg_total_relation_size), and what they hold. */
export async function tableBytes(db: Kysely<Database>, table: "samples" | "sample_blocks" | "rollup_1m" | "rollup_1h"): Promise<TableBytes> {
  const size = await sql<{ total: number; indexes: number; toast: number }>`
    SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::float8 AS total, coalesce(sum(pg_indexes_size(c.oid)), 0)::float8 AS indexes,
           coalesce(sum(CASE WHEN c.reltoastrelid = 0 THEN 0 ELSE pg_total_relation_size(c.reltoastrelid) END), 0)::float8 AS toast
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = ${table}::regclass`.execute(db);
  const held =
    table === "samples"
      ? await sql<{ rows: number; points: number; data: number }>`SELECT count(*)::float8 AS rows, count(*)::float8 AS points, 0::float8 AS data FROM samples`.execute(db)
      : await sql<{ rows: number; points: number; data: number }>`
          SELECT count(*)::float8 AS rows, coalesce(sum(n), 0)::float8 AS points, coalesce(sum(octet_length(data)), 0)::float8 AS data FROM ${sql.table(table)}`.execute(db);
  return { ...size.rows[0]!, ...held.rows[0]! };
}

/** Bytes per stored point (sample or bucket), counting everything the table's partitions take on disk. */
export const perPoint = (b: TableBytes): number => (b.points > 0 ? b.total / b.points : 0);

const readOr = (path: string): string => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return ""; // the process exited meanwhile
  }
};

/**
 * CPU seconds (user+sys) of this process and of the postgres processes from now to the returned function's call. A
 * backend that exits meanwhile (an idle pool connection closing) is left out rather than counted negative.
 */
export function cpuMeter(): () => { bench: number; postgres: number } {
  const secs = (pid: string) => {
    const f = readOr(`/proc/${pid}/stat`).split(") ")[1]?.split(" ");
    return f ? (Number(f[11]) + Number(f[12])) / 100 : 0; // utime + stime, USER_HZ ticks
  };
  const postgres = () => new Map(readdirSync("/proc").filter((d) => /^\d+$/.test(d) && readOr(`/proc/${d}/comm`) === "postgres\n").map((d) => [d, secs(d)]));
  const own = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const [b0, p0] = [own(), postgres()];
  return () => {
    let pg = 0;
    for (const [pid, s] of postgres()) pg += s - (p0.get(pid) ?? 0);
    return { bench: Math.round((own() - b0) * 100) / 100, postgres: Math.round(pg * 100) / 100 };
  };
}
