// The composition root: every part of the collector is built and wired here, and nowhere else.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { formatHostPort, systemClock, type Clock, type Logger } from "@vigil/shared";
import { buildHttpServer } from "./api/http-server.js";
import type { CollectorConfig } from "./config.js";
import { configRedactor } from "./config-secrets.js";
import { startGrpcServer, type GrpcTls } from "./ingest/grpc-server.js";
import { newIngestStats, noAuth, type CommittedBatch, type IngestStats, type IngestStorage } from "./ingest/ports.js";
import { MaintenanceSchedule } from "./maintenance/schedule.js";
import { StorageWatch } from "./maintenance/storage-watch.js";
import { openStorage } from "./storage/open.js";
import { TierMaintenance } from "./storage/tiers/maintenance.js";
import { registerMaintenanceMetrics } from "./telemetry/maintenance-metrics.js";
import { registerStorageMetrics } from "./telemetry/storage-metrics.js";
import { registerHost } from "./storage/host-store.js";
import { PostgresMetricsReader } from "./storage/metrics-reader.js";
import { StorageReadiness } from "./storage/readiness.js";
import { PostgresStorageStats } from "./storage/storage-stats.js";
import { SampleWriter } from "./storage/sample-writer.js";
import { SeriesRegistry } from "./storage/series-registry.js";
import { TokenStore } from "./storage/token-store.js";
import { AlertStore } from "./storage/alert-store.js";
import { Alerting } from "./rules/alerting.js";
import type { SamplePoint } from "./rules/types.js";
import { alertingApi } from "./wiring/alerting-api.js";
import { startNotifications } from "./wiring/notifications.js";
import { createSelfMetrics } from "./telemetry/self-metrics.js";
import { registerAlertingMetrics } from "./telemetry/alerting-metrics.js";

export interface CollectorServiceOptions {
  config: CollectorConfig;
  log: Logger;
  clock?: Clock;
}

export interface CollectorService {
  httpUrl: string;
  grpcAddress: string;
  storageKind: "postgres" | "pglite";
  ingestStats: IngestStats;
  /** Re-reads rule files and API rules (SIGHUP); a failure is logged, the running rules stay. */
  reloadRulesInBackground(): void;
  stop(): Promise<void>;
}

const CHECK_STATUS = ["healthy", "degraded", "unhealthy"] as const;

function loadTls(config: CollectorConfig): GrpcTls | undefined {
  const { cert, key, clientCa } = config.tls;
  if (!cert || !key) return undefined;
  return { cert: readFileSync(cert), key: readFileSync(key), clientCa: clientCa ? readFileSync(clientCa) : undefined };
}

/** A batch's points as alert evaluation takes them: only those of metrics some rule watches, the rest cost nothing. */
function watchedPoints(b: CommittedBatch, watches: (metric: string) => boolean): SamplePoint[] {
  const out: SamplePoint[] = [];
  b.series.forEach((s, i) => {
    if (watches(s.metric)) out.push({ host: b.host, metric: s.metric, labels: s.labels, timeMs: b.timeMs, value: b.values[i]! });
  });
  return out;
}

export async function startCollector({ config, log, clock = systemClock }: CollectorServiceOptions): Promise<CollectorService> {
  const tls = loadTls(config);
  const storage = await openStorage({ ...config, writerConnections: config.ingest.writerConnections }, log, clock);
  const { db, partitions } = storage;
  const storageStats = new PostgresStorageStats(db, { databaseUrl: config.databaseUrl, dataDir: config.dataDir, volumeSizeBytes: config.storage.volumeSizeBytes });
  const storageLog = log.child({ component: "storage" });
  const reportCorrupt = (table: string, seriesId: number, err: Error) => storageLog.error({ table, seriesId, err: err.message }, "a stored block cannot be decoded; left out of the answer");
  // The storage figures after each maintenance run: for /metrics, and as the collector's own series for alert rules.
  const storageWatch = new StorageWatch(storageStats, { host: hostname(), clock, log: storageLog, observe: (points) => alerting.observeOwn(points) });
  const maintenance = new MaintenanceSchedule(new TierMaintenance(db, storage.kind, partitions, config.storage, storageLog), {
    intervalMs: config.storage.maintenanceIntervalMs,
    clock,
    log: storageLog,
    afterRun: () => storageWatch.refresh(),
  });

  // PGlite serves one connection: a second commit would only wait for it.
  const connections = storage.kind === "pglite" ? 1 : config.ingest.writerConnections;
  const writer = new SampleWriter({ db, partitions, maxQueuedRows: config.ingest.maxQueuedRows, maxRowsPerCommit: 20_000, connections });
  const series = new SeriesRegistry(db);
  const ingestStorage: IngestStorage = {
    registerHost: (h, admit) => registerHost(db, h, admit),
    resolveSeries: (hostId, keys, maxPerHost) => series.resolve(hostId, keys, maxPerHost),
    enqueue: (p) => writer.enqueue(p),
    full: () => writer.full,
  };
  if (config.insecureNoAuth) log.warn("INSECURE: --insecure-no-auth is set; any agent that can reach the gRPC port may write data");
  if (!tls) log.warn({ grpc: formatHostPort(config.grpcListen) }, "gRPC ingest is plaintext; set tls.cert and tls.key for TLS");
  const redactor = configRedactor(config);
  const notifications = await startNotifications({ db, config, clock, log, redact: (text) => redactor.text(text) });
  const alertStore = new AlertStore(db);
  const alerting = new Alerting({
    repo: alertStore,
    clock,
    log: log.child({ component: "alerting" }),
    rulesDir: config.rulesDir,
    disabledDefaults: config.disabledRules,
    onTransitions: (events) => notifications.dispatcher.onAlertEvents(events),
  });
  const hosts = await db.selectFrom("hosts").select(["name", "last_seen", "interval_ms"]).execute();
  const rulesReport = await alerting.start(hosts.map((h) => ({ name: h.name, lastSeenMs: h.last_seen.getTime(), intervalMs: h.interval_ms })));
  // Alert state and notification decisions are stored in separate transactions: after a crash between the two, the
  // policy learns of every open alert again here (it ignores what it already knew), so no page is lost.
  notifications.dispatcher.onAlertEvents(
    alerting.openInstances().map((i) => ({
      alertId: i.id,
      ruleName: i.ruleName,
      kind: i.state === "firing" ? "firing" : "pending",
      severity: i.severity,
      value: i.value,
      labels: i.labels,
      timeMs: clock.now(),
      message: "restored at start",
      instance: i,
    })),
  );
  for (const e of rulesReport.errors) log.error({ err: e }, "invalid alert rule");
  log.info({ rules: rulesReport.rules }, "alert rules loaded");
  // Once alerting runs: each run ends by sending it the storage figures.
  maintenance.start();

  const ingestStats = newIngestStats();
  const grpc = await startGrpcServer({
    listen: config.grpcListen,
    tls,
    maxMessageBytes: config.ingest.maxMessageBytes,
    limits: {
      maxFutureSkewMs: config.ingest.maxFutureSkewMs,
      maxPastAgeMs: config.ingest.maxPastAgeMs,
      helloTimeoutMs: config.ingest.helloTimeoutMs,
      maxSeriesPerStream: config.ingest.maxSeriesPerStream,
      maxSeriesPerHost: config.ingest.maxSeriesPerHost,
      allowAgentIdChange: config.ingest.allowAgentIdChange,
    },
    storage: ingestStorage,
    auth: config.insecureNoAuth ? noAuth : new TokenStore(db),
    clock,
    log: log.child({ component: "ingest" }),
    collectorId: randomUUID(),
    stats: ingestStats,
    observer: (b) =>
      alerting.observe(
        b.host,
        b.intervalMs,
        watchedPoints(b, (metric) => alerting.watches(metric)),
        b.checks.map((c) => ({ host: b.host, check: c.name, kind: c.kind, status: CHECK_STATUS[c.status] ?? "unhealthy", timeMs: c.timeMs, message: c.message })),
      ),
  });

  const reader = new PostgresMetricsReader(db, config.storage.retention, clock, reportCorrupt);
  const selfMetrics = createSelfMetrics({ ingest: ingestStats, writer: writer.stats });
  registerMaintenanceMetrics(selfMetrics, maintenance.stats);
  registerStorageMetrics(selfMetrics, storageWatch.stats);
  registerAlertingMetrics(selfMetrics, alerting.stats);
  const http = buildHttpServer({
    reader,
    alerting: alertingApi({ alerting, store: alertStore, db, clock }),
    notifications: notifications.api,
    readiness: new StorageReadiness(db),
    storageStats,
    selfMetrics,
    limits: config.api,
    clock,
    log: log.child({ component: "api" }),
  });
  await http.listen({ host: config.httpListen.host, port: config.httpListen.port });
  const httpPort = (http.server.address() as { port: number }).port;

  const grpcAddress = formatHostPort({ host: config.grpcListen.host, port: grpc.port });
  const httpUrl = `http://${formatHostPort({ host: config.httpListen.host === "0.0.0.0" ? "127.0.0.1" : config.httpListen.host, port: httpPort })}`;
  log.info({ http: httpUrl, grpc: grpcAddress, tls: tls ? (tls.clientCa ? "mtls" : "tls") : "off", auth: config.insecureNoAuth ? "off" : "token" }, "collector listening");

  return {
    httpUrl,
    grpcAddress,
    storageKind: storage.kind,
    ingestStats,
    reloadRulesInBackground: () => alerting.reloadInBackground(),
    async stop() {
      await maintenance.stop();
      await grpc.close();
      await writer.close();
      await alerting.stop();
      await notifications.stop();
      await http.close();
      await storage.close();
    },
  };
}
