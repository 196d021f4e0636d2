// The composition root: every part of the collector is built and wired here, and nowhere else.
import { randomUUID } from "node:crypto";
import { formatHostPort, systemClock, type Clock, type Logger } from "@vigil/shared";
import { buildHttpServer } from "./api/http-server.js";
import type { CollectorConfig } from "./config.js";
import { startGrpcServer } from "./ingest/grpc-server.js";
import { newIngestStats, type IngestStats, type IngestStorage } from "./ingest/ports.js";
import { openDatabase } from "./storage/database.js";
import { registerHost } from "./storage/host-store.js";
import { PostgresMetricsReader } from "./storage/metrics-reader.js";
import { migrate } from "./storage/migrator.js";
import { PartitionManager } from "./storage/partitions.js";
import { StorageReadiness } from "./storage/readiness.js";
import { SampleWriter } from "./storage/sample-writer.js";
import { SeriesRegistry } from "./storage/series-registry.js";

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
  stop(): Promise<void>;
}

const HOUR = 3_600_000;

export async function startCollector({ config, log, clock = systemClock }: CollectorServiceOptions): Promise<CollectorService> {
  const store = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const { db } = store;
  const migrated = await migrate(db);
  log.info({ storage: store.kind, timescale: migrated.timescale, applied: migrated.applied }, "storage ready");

  const partitions = new PartitionManager(db, migrated.timescale);
  await partitions.ensureAround(clock.now());
  const partitionTimer = setInterval(() => {
    partitions.ensureAround(clock.now()).catch((err: Error) => log.warn({ err: err.message }, "partition maintenance failed"));
  }, HOUR);
  partitionTimer.unref();

  const writer = new SampleWriter({ db, partitions, maxQueuedRows: 200_000, maxRowsPerCommit: 20_000 });
  const series = new SeriesRegistry(db);
  const storage: IngestStorage = {
    registerHost: (h) => registerHost(db, h),
    resolveSeries: (hostId, keys) => series.resolve(hostId, keys),
    enqueue: (p) => writer.enqueue(p),
  };
  const ingestStats = newIngestStats();
  const grpc = await startGrpcServer({
    listen: config.grpcListen,
    maxMessageBytes: 16 * 1024 * 1024,
    storage,
    clock,
    log: log.child({ component: "ingest" }),
    collectorId: randomUUID(),
    stats: ingestStats,
  });

  const http = buildHttpServer({ reader: new PostgresMetricsReader(db), readiness: new StorageReadiness(db), clock, log: log.child({ component: "api" }) });
  await http.listen({ host: config.httpListen.host, port: config.httpListen.port });
  const httpPort = (http.server.address() as { port: number }).port;

  const grpcAddress = formatHostPort({ host: config.grpcListen.host, port: grpc.port });
  const httpUrl = `http://${formatHostPort({ host: config.httpListen.host === "0.0.0.0" ? "127.0.0.1" : config.httpListen.host, port: httpPort })}`;
  log.info({ http: httpUrl, grpc: grpcAddress }, "collector listening");

  return {
    httpUrl,
    grpcAddress,
    storageKind: store.kind,
    ingestStats,
    async stop() {
      clearInterval(partitionTimer);
      await grpc.close();
      await writer.close();
      await http.close();
      await store.close();
    },
  };
}
