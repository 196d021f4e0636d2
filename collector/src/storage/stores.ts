// Everything the rest of the collector gets from storage, built over one database: each field is a port of the package
// that uses it (ingest/, api/, rules/, notify/, maintenance/), so a second backend would plug in by building the same
// bundle.
import type { Kysely } from "kysely";
import type { Clock, Logger } from "@vigil/shared";
import type { ApiKeys, AuditLog, MetricsReader, Readiness, StorageStatsReader } from "../api/ports.js";
import type { IngestStorage } from "../ingest/ports.js";
import type { MaintenanceStore } from "../maintenance/ports.js";
import type { NotifyStateStore, OutboxStorage } from "../notify/ports.js";
import type { AlertStorage } from "../rules/ports.js";
import { AlertStore } from "./alert-store.js";
import { ApiKeyStore } from "./api-key-store.js";
import { AuditStore } from "./audit-store.js";
import { registerHost } from "./host-store.js";
import { PostgresMetricsReader } from "./metrics-reader.js";
import { NotifyStore } from "./notify-store.js";
import { OutboxStore } from "./outbox-store.js";
import type { PartitionManager } from "./partitions.js";
import { StorageReadiness } from "./readiness.js";
import { PostgresStorageStats, type StorageStatsOptions } from "./storage-stats.js";
import { SampleWriter, type WriterStats } from "./sample-writer.js";
import type { Database } from "./schema.js";
import { SeriesRegistry } from "./series-registry.js";
import { TierMaintenance, type LifecycleSettings } from "./tiers/maintenance.js";
import { TokenStore } from "./token-store.js";

/** Rows per write transaction: batches from many agents are coalesced up to this. */
const MAX_ROWS_PER_COMMIT = 20_000;

/** ingest/'s storage, with the write queue's counters and its end for the composition root. */
export interface IngestStore extends IngestStorage {
  readonly stats: WriterStats;
  /** Commits what is queued, then refuses more: called once ingest has stopped, before alerting stops. */
  close(): Promise<void>;
}

export interface Stores {
  ingest: IngestStore;
  /** Agent tokens: ingest authenticates agents with them, the token CLI manages them. */
  tokens: TokenStore;
  /** API keys: the HTTP API authenticates callers with them; the apikey CLI and admin routes manage them. */
  apiKeys: ApiKeys;
  audit: AuditLog;
  reader: MetricsReader;
  readiness: Readiness;
  alerts: AlertStorage;
  outbox: OutboxStorage;
  notifyState: NotifyStateStore;
  /** The storage lifecycle job (partitions ahead, compaction, rollups, retention), run on maintenance/'s schedule. */
  maintenance: MaintenanceStore;
  /** The storage figures: the API answers with them, maintenance/ watches them after each run. */
  stats: StorageStatsReader;
  /** The id of the cluster of collectors sharing this database: it names their leases in Redis. */
  clusterId(): Promise<string>;
}

/** What the stores are built over: the open database, its kind and samples partitions, the clock and the log. */
export interface StoresBase {
  db: Kysely<Database>;
  kind: "postgres" | "pglite";
  partitions: PartitionManager;
  clock: Clock;
  log: Logger;
}

export interface StoresOptions {
  /** Rows queued (not yet committed) above which ingest waits: the bound on the collector's memory. */
  maxQueuedRows: number;
  /** Sample commits that may run at once (PGlite serves one connection: there always 1). */
  writerConnections: number;
  lifecycle: LifecycleSettings;
  stats: StorageStatsOptions;
  /** How long audit log entries are kept. */
  auditRetentionMs: number;
}

export function createStores({ db, kind, partitions, clock, log }: StoresBase, opts: StoresOptions): Stores {
  const storageLog = log.child({ component: "storage" });
  const reportCorrupt = (table: string, seriesId: number, err: Error) =>
    storageLog.error({ table, seriesId, err: err.message }, "a stored block cannot be decoded; left out of the answer");
  const connections = kind === "pglite" ? 1 : opts.writerConnections;
  const writer = new SampleWriter({ db, partitions, maxQueuedRows: opts.maxQueuedRows, maxRowsPerCommit: MAX_ROWS_PER_COMMIT, connections });
  const series = new SeriesRegistry(db);
  const outbox = new OutboxStore(db);
  return {
    ingest: {
      registerHost: (h, admit) => registerHost(db, h, admit),
      resolveSeries: (hostId, keys, maxPerHost) => series.resolve(hostId, keys, maxPerHost),
      enqueue: (p) => writer.enqueue(p),
      full: () => writer.full,
      stats: writer.stats,
      close: () => writer.close(),
    },
    tokens: new TokenStore(db),
    apiKeys: new ApiKeyStore(db),
    audit: new AuditStore(db, clock, opts.auditRetentionMs),
    reader: new PostgresMetricsReader(db, opts.lifecycle.retention, clock, reportCorrupt),
    readiness: new StorageReadiness(db),
    alerts: new AlertStore(db),
    outbox,
    notifyState: new NotifyStore(db, outbox),
    maintenance: new TierMaintenance(db, kind, partitions, opts.lifecycle, storageLog),
    stats: new PostgresStorageStats(db, opts.stats),
    clusterId: async () => (await db.selectFrom("cluster").select("id").executeTakeFirstOrThrow()).id,
  };
}
