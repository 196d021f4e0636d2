import type { Kysely } from "kysely";
import { systemClock, type Clock } from "@vigil/shared";
import type { CheckStatusName, CheckView, HostView, MetricsReader, RangeRead, RangeSeries, SelectedSeries, SeriesSelection, SeriesSelector, SeriesView } from "../api/ports.js";
import { estimatedSamples, SeriesSelect } from "./range-reader.js";
import type { Database } from "./schema.js";
import type { RetentionSettings } from "./tiers/retention.js";
import { chooseTier, TierReader, tierSpacing } from "./tiers/tier-reader.js";

/** Hosts count as up while they reported within this many of their own intervals. */
const UP_INTERVALS = 3;

const STATUS_NAMES: readonly CheckStatusName[] = ["healthy", "degraded", "unhealthy"];

/** Checks one host may have, as far as the API lists them. */
const MAX_CHECKS = 1000;

export class PostgresMetricsReader implements MetricsReader {
  private readonly select: SeriesSelect;
  private readonly tiers: TierReader;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly retention: RetentionSettings,
    private readonly clock: Clock = systemClock,
    onCorruptBlock: (table: string, seriesId: number, err: Error) => void = () => {},
  ) {
    this.select = new SeriesSelect(db, clock);
    this.tiers = new TierReader({ db, clock, retention, onCorruptBlock });
  }

  async listHosts(nowMs: number, limit: number): Promise<HostView[]> {
    const rows = await this.db
      .selectFrom("hosts")
      .selectAll("hosts")
      .select((eb) => eb.selectFrom("check_state").select((e) => e.fn.max("status").as("s")).whereRef("check_state.host_id", "=", "hosts.id").as("worst"))
      .orderBy("name")
      .limit(limit)
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
    const rows = await this.db.selectFrom("check_state").selectAll().where("host_id", "=", h.id).orderBy("name").limit(MAX_CHECKS).execute();
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

  selectSeries(s: SeriesSelector): Promise<SeriesSelection> {
    return this.select.selectSeries(s);
  }

  estimateRead(series: readonly SelectedSeries[], r: Pick<RangeRead, "startMs" | "endMs" | "stepMs">): number {
    if (series.length === 0) return 0;
    const tier = chooseTier(this.retention, series[0]!.metric, r, this.clock.now());
    return series.reduce((n, s) => n + estimatedSamples(tierSpacing(tier, s), r.startMs, r.endMs), 0);
  }

  readRange(series: readonly SelectedSeries[], r: RangeRead): AsyncIterable<RangeSeries> {
    return this.tiers.readRange(series, r);
  }
}
