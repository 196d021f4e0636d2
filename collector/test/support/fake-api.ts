// The HTTP server over fake ports: a scripted MetricsReader and storage stats, alerting and notifications that fail
// if called, and a logger whose lines the test can read.
import { Writable } from "node:stream";
import pino from "pino";
import type { FastifyInstance } from "fastify";
import { ManualClock, type Labels } from "@vigil/shared";
import { Registry } from "prom-client";
import { newAuditStats } from "../../src/api/audit-trail.js";
import { newAccessStats } from "../../src/api/authenticate.js";
import { newRateLimitStats, type RateLimits, type RateLimitStats } from "../../src/api/rate-limit.js";
import { buildHttpServer, type QueryLimits, type TransportSettings } from "../../src/api/http-server.js";
import type {
  AgentTokens,
  AlertingApi,
  ApiKeys,
  AuditEntry,
  HostView,
  MetricsReader,
  NotificationsApi,
  RangeRead,
  RangeSeries,
  SelectedSeries,
  SeriesSelection,
  SeriesSelector,
  SeriesView,
  StorageStatsReader,
  StorageView,
} from "../../src/api/ports.js";

export const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

export const DEFAULT_LIMITS: QueryLimits = { maxPoints: 500_000, maxSeries: 10_000, maxSamples: 50_000_000, maxHeavyQueries: 2, timeoutMs: 30_000 };

/** A MetricsReader over series in memory; each read answers one point per series, unless the test scripts it. */
export class FakeReader implements MetricsReader {
  series: SelectedSeries[] = [];
  hosts: HostView[] = [];
  selectors: SeriesSelector[] = [];
  reads: RangeRead[] = [];
  /** Replaces the default read: whatever it yields is the answer. */
  read: ((series: readonly SelectedSeries[], r: RangeRead) => AsyncIterable<RangeSeries>) | null = null;
  failListHosts: Error | null = null;

  estimateRead(series: readonly SelectedSeries[], r: Pick<RangeRead, "startMs" | "endMs" | "stepMs">): number {
    return series.reduce((n, s) => n + Math.floor((r.endMs - r.startMs) / Math.max(s.intervalMs, 1000)) + 1, 0);
  }

  async listHosts(_nowMs: number, limit: number): Promise<HostView[]> {
    if (this.failListHosts) throw this.failListHosts;
    return this.hosts.slice(0, limit);
  }

  async listSeries(f: { host?: string; metric?: string; limit: number }): Promise<SeriesView[]> {
    return this.series
      .filter((s) => (f.metric === undefined || s.metric === f.metric) && (f.host === undefined || s.labels.host === f.host))
      .slice(0, f.limit)
      .map((s) => ({ id: s.id, host: s.labels.host!, metric: s.metric, labels: s.labels }));
  }

  async selectSeries(sel: SeriesSelector): Promise<SeriesSelection> {
    this.selectors.push(sel);
    const out: SelectedSeries[] = [];
    let examined = 0;
    for (const s of this.series) {
      if (s.metric !== sel.metric || (sel.host !== undefined && s.labels.host !== sel.host)) continue;
      if (!Object.entries(sel.exact).every(([k, v]) => s.labels[k] === v)) continue;
      if (++examined > sel.maxCandidates) return { series: out, overflow: "candidates" };
      if (!sel.accept(s.labels)) continue;
      if (out.length === sel.maxSeries) return { series: out, overflow: "series" };
      out.push(s);
    }
    return { series: out, overflow: null };
  }

  readRange(series: readonly SelectedSeries[], r: RangeRead): AsyncIterable<RangeSeries> {
    this.reads.push(r);
    if (this.read) return this.read(series, r);
    return (async function* () {
      for (const s of series) yield { metric: s.metric, labels: s.labels, pointsJson: JSON.stringify([[r.startMs, s.id]]) };
    })();
  }

  async hostChecks(): Promise<null> {
    return null;
  }
}

export function fakeSeries(n: number, metric = "m", labels: (i: number) => Labels = (i) => ({ host: "h1", i: String(i) }), intervalMs = 10_000): SelectedSeries[] {
  return Array.from({ length: n }, (_, i) => ({ id: i + 1, metric, labels: labels(i), intervalMs }));
}

/** Storage stats that answer `view` (or throw `failure`), each read after `gate` opens; records when it was read. */
export class FakeStorageStats implements StorageStatsReader {
  reads: number[] = [];
  failure: Error | null = null;
  gate: Promise<void> = Promise.resolve();

  constructor(public view: StorageView) {}

  async read(nowMs: number): Promise<StorageView> {
    this.reads.push(nowMs);
    await this.gate;
    if (this.failure) throw this.failure;
    return { ...this.view, measuredAt: new Date(nowMs).toISOString() };
  }
}

/** A database holding a little of everything, filling in 12.5 days. */
export function storageView(): StorageView {
  const tier = (tier: StorageView["tiers"][number]["tier"], table: string, bytes: number, points: number) =>
    ({ tier, table, partitions: 2, bytes, points, pointsEstimated: false, bytesPerPoint: bytes / points, oldestPoint: "2026-11-20T00:00:05.000Z", oldestPointExact: true }) as const;
  return {
    measuredAt: new Date(NOW).toISOString(),
    database: { kind: "postgres", bytes: 50_000_000 },
    tiers: [tier("narrow", "samples", 9_000_000, 100_000), tier("raw", "sample_blocks", 2_000_000, 1_000_000), tier("1m", "rollup_1m", 1_000_000, 20_000), tier("1h", "rollup_1h", 100_000, 400)],
    growth: { bytesPerDay: 4_000_000, since: "2026-11-16T12:00:00.000Z", reason: null },
    volume: { source: "setting", path: null, sizeBytes: 100_000_000, availableBytes: 50_000_000, reason: null },
    daysUntilFull: 12.5,
    daysUntilFullReason: null,
  };
}

/** A port nobody should call in these tests: every method rejects. */
function unused<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get: (_t, prop) => () => Promise.reject(new Error(`${name}.${String(prop)} should not be called`)),
  });
}

export interface TestApi {
  app: FastifyInstance;
  reader: FakeReader;
  storageStats: FakeStorageStats;
  clock: ManualClock;
  /** Every log line the server wrote (level warn and above reach it). */
  logs: Record<string, unknown>[];
  /** What the server wrote to the audit log. */
  audit: AuditEntry[];
  rateLimitStats: RateLimitStats;
}

/** Rate limits out of reach: most tests are not about them (api-rate-limit.test.ts is). */
const NO_RATE_LIMITS: RateLimits = { max: 1e9, anonymousMax: 1e9, windowMs: 60_000 };

export async function testApi(
  limits: QueryLimits = DEFAULT_LIMITS,
  reader = new FakeReader(),
  storageStats = new FakeStorageStats(storageView()),
  rateLimits = NO_RATE_LIMITS,
  transport: TransportSettings = { tls: null, corsOrigins: [] },
): Promise<TestApi> {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n")) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const clock = new ManualClock(NOW);
  const audit: AuditEntry[] = [];
  const rateLimitStats = newRateLimitStats();
  const app = buildHttpServer({
    reader,
    alerting: unused<AlertingApi>("alerting"),
    notifications: unused<NotificationsApi>("notifications"),
    readiness: { notReadyReason: async () => null },
    storageStats,
    selfMetrics: new Registry(),
    limits,
    // Open access, as on loopback before any key exists; the audit log is kept in memory.
    access: {
      apiKeys: unused<ApiKeys>("apiKeys"),
      tokens: unused<AgentTokens>("tokens"),
      audit: { record: async (e) => void audit.push(e), list: async () => ({ entries: [], next: null }) },
      openAccess: "always",
      metricsAuth: false,
      stats: newAccessStats(),
      auditStats: newAuditStats(),
      rateLimit: { limits: rateLimits, redis: null, stats: rateLimitStats },
    },
    transport,
    clock,
    log: pino({ level: "info" }, sink),
  });
  return { app, reader, storageStats, clock, logs, audit, rateLimitStats };
}
