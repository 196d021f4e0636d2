// The composition root: every part of the collector is wired here, and nowhere else (storage builds its own stores).
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { formatHostPort, systemClock, type Clock, type Logger } from "@vigil/shared";
import { newAuditStats } from "./api/audit-trail.js";
import { accessAnnouncement, isLoopbackHost, newAccessStats, openAccessFor } from "./api/authenticate.js";
import { buildHttpServer } from "./api/http-server.js";
import { newRateLimitStats } from "./api/rate-limit.js";
import { RedisAlertRelay } from "./cluster/alert-relay.js";
import { HostMoves } from "./cluster/host-moves.js";
import { LeaseKeeper, newLeaseStats } from "./cluster/lease-keeper.js";
import { LocalLeaseStore } from "./cluster/local-leases.js";
import { connectRedis } from "./cluster/redis.js";
import { RedisLeaseStore } from "./cluster/redis-leases.js";
import { ClusterSubscriber } from "./cluster/subscriber.js";
import type { CollectorConfig } from "./config.js";
import { configRedactor } from "./config-secrets.js";
import { startGrpcServer, type GrpcTls } from "./ingest/grpc-server.js";
import { newIngestStats, noAuth, type CommittedBatch, type IngestStats } from "./ingest/ports.js";
import { MaintenanceSchedule } from "./maintenance/schedule.js";
import { StorageWatch } from "./maintenance/storage-watch.js";
import { startNotifications } from "./notify/pipeline.js";
import { Alerting, HOST_DOWN_LEASE, restoredEvents } from "./rules/alerting.js";
import { alertingApi, serveAlertCommand } from "./rules/alerting-api.js";
import { HostStreamFollower } from "./rules/host-streams.js";
import { openStorage } from "./storage/open.js";
import { readKeyPair, readPemFile } from "./tls-files.js";
import type { SamplePoint } from "./rules/types.js";
import { createSelfMetrics } from "./telemetry/self-metrics.js";
import { registerAccessMetrics } from "./telemetry/access-metrics.js";
import { registerAlertingMetrics } from "./telemetry/alerting-metrics.js";
import { registerLeaseMetrics } from "./telemetry/lease-metrics.js";
import { registerMaintenanceMetrics } from "./telemetry/maintenance-metrics.js";
import { registerStorageMetrics } from "./telemetry/storage-metrics.js";

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
  return { ...readKeyPair("tls", cert, key), clientCa: clientCa ? readPemFile(clientCa, "tls.client_ca") : undefined };
}

function loadHttpTls(config: CollectorConfig): { cert: Buffer; key: Buffer } | null {
  const { cert, key } = config.httpTls;
  return cert && key ? readKeyPair("http_tls", cert, key) : null;
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
  const httpTls = loadHttpTls(config);
  const storage = await openStorage(config, log, clock);
  const storageLog = log.child({ component: "storage" });
  // The storage figures after each maintenance run: for /metrics, and as the collector's own series for alert rules.
  const storageWatch = new StorageWatch(storage.stats, { host: hostname(), clock, log: storageLog, observe: (points) => alerting.observeOwn(points) });
  const maintenance = new MaintenanceSchedule(storage.maintenance, {
    intervalMs: config.storage.maintenanceIntervalMs,
    clock,
    log: storageLog,
    afterRun: () => storageWatch.refresh(),
  });

  if (config.insecureNoAuth) log.warn("INSECURE: --insecure-no-auth is set; any agent that can reach the gRPC port may write data");
  if (!tls) log.warn({ grpc: formatHostPort(config.grpcListen) }, "gRPC ingest is plaintext; set tls.cert and tls.key for TLS");
  if (!httpTls && !isLoopbackHost(config.httpListen.host)) {
    log.warn({ http: formatHostPort(config.httpListen) }, "HTTP API is plaintext off loopback: API keys cross the network readable; set http_tls.cert and http_tls.key for HTTPS");
  }
  const collectorId = randomUUID();
  const redisStats = { errors: 0 };
  const redis = config.redisUrl ? connectRedis(config.redisUrl, log.child({ component: "redis" }), redisStats) : null;
  // Work one collector of the cluster does at a time, under a lease: in Redis when shared, else in this process.
  const clusterId = await storage.clusterId();
  const leaseStats = newLeaseStats();
  const hostDownLease = new LeaseKeeper({
    name: HOST_DOWN_LEASE,
    holder: collectorId,
    ttlMs: config.leaseTtlMs,
    store: redis ? new RedisLeaseStore(redis, clusterId) : new LocalLeaseStore(clock),
    clock,
    log: log.child({ component: "cluster" }),
    stats: leaseStats,
  });
  const redactor = configRedactor(config);
  const notifications = await startNotifications({ outbox: storage.outbox, state: storage.notifyState, config, clock, log, redact: (text) => redactor.text(text) });
  const alerting = new Alerting({
    repo: storage.alerts,
    clock,
    log: log.child({ component: "alerting" }),
    rulesDir: config.rulesDir,
    disabledDefaults: config.disabledRules,
    onTransitions: (events) => notifications.dispatcher.onAlertEvents(events),
    hostDownLease,
  });
  const rulesReport = await alerting.start(await storage.alerts.hostsLastSeen());
  // Alert state and notification decisions are stored in separate transactions: after a crash between the two, the
  // policy learns of every open alert again here (it ignores what it already knew), so no page is lost.
  notifications.dispatcher.onAlertEvents(restoredEvents(alerting.openInstances(), clock.now()));
  for (const e of rulesReport.errors) log.error({ err: e }, "invalid alert rule");
  log.info({ rules: rulesReport.rules }, "alert rules loaded");
  // Once alerting runs: each run ends by sending it the storage figures.
  maintenance.start();
  hostDownLease.start();

  const ingestStats = newIngestStats();
  // A host's alert state follows its stream; the collector it left hears of the move, and changes to an alert made
  // through another collector reach this one (in Redis, when shared).
  const clusterLog = log.child({ component: "cluster" });
  const shared = redis ? { redis, subscriber: new ClusterSubscriber(redis, clusterLog), cluster: clusterId, collectorId, log: clusterLog } : null;
  const hostMoves = shared ? new HostMoves({ ...shared, onMovedAway: (h) => hostStreams.movedAway(h) }) : null;
  const hostStreams = new HostStreamFollower(alerting, (h) => hostMoves?.announce(h));
  hostMoves?.start();
  const alertRelay = shared ? new RedisAlertRelay({ ...shared, serve: (cmd) => serveAlertCommand(alerting, cmd) }) : undefined;
  alertRelay?.start();
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
    storage: storage.ingest,
    auth: config.insecureNoAuth ? noAuth : storage.tokens,
    clock,
    log: log.child({ component: "ingest" }),
    collectorId,
    stats: ingestStats,
    streams: hostStreams,
    observer: (b) =>
      alerting.observe(
        b.host,
        b.intervalMs,
        watchedPoints(b, (metric) => alerting.watches(metric)),
        b.checks.map((c) => ({ host: b.host, check: c.name, kind: c.kind, status: CHECK_STATUS[c.status] ?? "unhealthy", timeMs: c.timeMs, message: c.message })),
      ),
  });

  const selfMetrics = createSelfMetrics({ ingest: ingestStats, writer: storage.ingest.stats });
  registerMaintenanceMetrics(selfMetrics, maintenance.stats);
  registerStorageMetrics(selfMetrics, storageWatch.stats);
  registerAlertingMetrics(selfMetrics, alerting.stats);
  registerLeaseMetrics(selfMetrics, leaseStats);
  const openAccess = openAccessFor(config.httpListen.host, config.insecureNoAuth);
  const accessStats = newAccessStats();
  const auditStats = newAuditStats();
  const rateLimitStats = newRateLimitStats();
  registerAccessMetrics(selfMetrics, accessStats, auditStats, rateLimitStats, redisStats);
  const access = accessAnnouncement(openAccess, await storage.apiKeys.anyActive(clock.now()));
  if (access.warn) log.warn(access.message);
  else log.info(access.message);
  const http = buildHttpServer({
    reader: storage.reader,
    alerting: alertingApi({ alerting, store: storage.alerts, clock, relay: alertRelay }),
    notifications: notifications.api,
    readiness: storage.readiness,
    storageStats: storage.stats,
    selfMetrics,
    limits: config.api,
    access: { apiKeys: storage.apiKeys, tokens: storage.tokens, audit: storage.audit, openAccess, metricsAuth: config.api.metricsAuth, stats: accessStats,
      auditStats,
      rateLimit: { limits: config.api.rateLimit, redis, stats: rateLimitStats },
    },
    transport: { tls: httpTls, corsOrigins: config.api.corsOrigins },
    clock,
    log: log.child({ component: "api" }),
  });
  await http.listen({ host: config.httpListen.host, port: config.httpListen.port });
  const httpPort = (http.server.address() as { port: number }).port;

  const grpcAddress = formatHostPort({ host: config.grpcListen.host, port: grpc.port });
  const httpUrl = `${httpTls ? "https" : "http"}://${formatHostPort({ host: config.httpListen.host === "0.0.0.0" ? "127.0.0.1" : config.httpListen.host, port: httpPort })}`;
  log.info({ http: httpUrl, grpc: grpcAddress, tls: tls ? (tls.clientCa ? "mtls" : "tls") : "off", httpTls: httpTls ? "on" : "off", auth: config.insecureNoAuth ? "off" : "token" }, "collector listening");
  log.info({ rateLimit: config.api.rateLimit, counters: redis ? "redis" : "this process" }, "HTTP API rate limits");

  return {
    httpUrl,
    grpcAddress,
    storageKind: storage.kind,
    ingestStats,
    reloadRulesInBackground: () => alerting.reloadInBackground(),
    async stop() {
      await maintenance.stop();
      await hostDownLease.stop();
      await grpc.close();
      shared?.subscriber.stop();
      await storage.ingest.close();
      await alerting.stop();
      await notifications.stop();
      await http.close();
      redis?.disconnect();
      await storage.close();
    },
  };
}
