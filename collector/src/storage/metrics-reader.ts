import { sql, type Kysely } from "kysely";
import type { CheckStatusName, CheckView, HostView, MetricsReader, RangeQuery, RangeSeries, SeriesView } from "../api/ports.js";
import type { Database } from "./schema.js";

/** Hosts count as up while they reported within this many of their own intervals. */
const UP_INTERVALS = 3;

const STATUS_NAMES: readonly CheckStatusName[] = ["healthy", "degraded", "unhealthy"];

const AGGREGATES = {
  avg: sql`avg(x.value)`,
  min: sql`min(x.value)`,
  max: sql`max(x.value)`,
  sum: sql`sum(x.value)`,
  last: sql`(array_agg(x.value ORDER BY x.time DESC))[1]`,
} as const;

export class PostgresMetricsReader implements MetricsReader {
  constructor(private readonly db: Kysely<Database>) {}

  async listHosts(nowMs: number): Promise<HostView[]> {
    const rows = await this.db
      .selectFrom("hosts")
      .selectAll("hosts")
      .select((eb) => eb.selectFrom("check_state").select((e) => e.fn.max("status").as("s")).whereRef("check_state.host_id", "=", "hosts.id").as("worst"))
      .orderBy("name")
      .execute();
    return rows.map((h) => ({
      name: h.name,
      agentId: h.agent_id,
      labels: h.labels,
      agentVersion: h.agent_version,
      os: h.os,
      kernel: h.kernel,
      cpuCount: h.cpu_count,
      intervalMs: h.interval_ms,
      bootTime: h.boot_time ? h.boot_time.toISOString() : null,
      firstSeen: h.first_seen.toISOString(),
      lastSeen: h.last_seen.toISOString(),
      up: nowMs - h.last_seen.getTime() <= UP_INTERVALS * h.interval_ms,
      health: h.worst === null ? null : (STATUS_NAMES[h.worst] ?? "unhealthy"),
    }));
  }

  /** Raw points of one metric in a time range, oldest first (for rule dry runs), with their series' labels. */
  async hostChecks(host: string): Promise<CheckView[] | null> {
    const h = await this.db.selectFrom("hosts").select("id").where("name", "=", host).executeTakeFirst();
    if (!h) return null;
    const rows = await this.db.selectFrom("check_state").selectAll().where("host_id", "=", h.id).orderBy("name").execute();
    return rows.map((r) => ({
      name: r.name,
      kind: r.kind,
      status: STATUS_NAMES[r.status] ?? "unhealthy",
      since: r.since.toISOString(),
      lastRun: r.last_time.toISOString(),
      durationSeconds: r.duration_seconds,
      message: r.message,
    }));
  }

  async listSeries(f: { host?: string; metric?: string; limit: number }): Promise<SeriesView[]> {
    let q = this.db
      .selectFrom("series as s")
      .innerJoin("hosts as h", "h.id", "s.host_id")
      .select(["s.id", "h.name as host", "s.metric", "s.labels"])
      .orderBy("s.metric")
      .orderBy("s.id")
      .limit(f.limit);
    if (f.host) q = q.where("h.name", "=", f.host);
    if (f.metric) q = q.where("s.metric", "=", f.metric);
    return (await q.execute()).map((r) => ({ id: r.id, host: r.host, metric: r.metric, labels: r.labels }));
  }

  async queryRange(q: RangeQuery): Promise<RangeSeries[]> {
    const hostFilter = q.host === undefined ? sql`` : sql`AND h.name = ${q.host}`;
    const matchFilter = Object.keys(q.match).length === 0 ? sql`` : sql`AND s.labels @> ${JSON.stringify(q.match)}::jsonb`;
    const r = await sql<{ id: number; metric: string; labels: Record<string, string>; host: string; t: number; v: number }>`
      WITH sel AS (
        SELECT s.id, s.metric, s.labels, h.name AS host
        FROM series s JOIN hosts h ON h.id = s.host_id
        WHERE s.metric = ${q.metric} ${hostFilter} ${matchFilter}
        ORDER BY s.id
        LIMIT ${q.maxSeries}
      )
      SELECT sel.id, sel.metric, sel.labels, sel.host,
             (extract(epoch FROM date_bin(make_interval(secs => ${q.stepMs / 1000}), x.time, timestamptz 'epoch')) * 1000)::float8 AS t,
             ${AGGREGATES[q.agg]}::float8 AS v
      FROM sel JOIN samples x ON x.series_id = sel.id
      WHERE x.time >= ${new Date(q.startMs).toISOString()}::timestamptz AND x.time <= ${new Date(q.endMs).toISOString()}::timestamptz
      GROUP BY sel.id, sel.metric, sel.labels, sel.host, t
      ORDER BY sel.id, t`.execute(this.db);
    const out: RangeSeries[] = [];
    let cur: (RangeSeries & { id: number }) | undefined;
    for (const row of r.rows) {
      if (cur?.id !== row.id) {
        cur = { id: row.id, metric: row.metric, labels: { ...row.labels, host: row.host }, points: [] };
        out.push(cur);
      }
      cur.points.push([row.t, row.v]);
    }
    return out.map(({ metric, labels, points }) => ({ metric, labels, points }));
  }
}
