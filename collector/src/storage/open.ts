import type { Clock, Logger } from "@vigil/shared";
import { databaseTarget } from "./connect-error.js";
import { openDatabase } from "./database.js";
import { acquireDataDirLock } from "./data-dir-lock.js";
import { migrate } from "./migrator.js";
import { PartitionManager } from "./partitions.js";
import { createStores, type Stores } from "./stores.js";
import type { LifecycleSettings } from "./tiers/maintenance.js";
import { waitForDatabase } from "./wait-for-database.js";

/** The one bundle the collector gets from storage: its ports (stores.ts), which backend serves them, and its end. */
export interface Storage extends Stores {
  kind: "postgres" | "pglite";
  /** Commits what the write queue holds, then closes the database (and frees a PGlite data dir). */
  close(): Promise<void>;
}

export interface StorageOptions {
  databaseUrl?: string;
  /** The setting that gave databaseUrl, named in errors ("DATABASE_URL", "database_url in FILE"). */
  databaseUrlFrom?: string;
  dataDir: string;
  /** How long to keep retrying an unreachable database at start (0: fail at once; Infinity: until stopped). */
  waitForDbMs: number;
  /** The write queue's bound, and the Postgres connections kept for the sample writer on top of the others'. */
  ingest: { maxQueuedRows: number; writerConnections: number };
  /** Retention, compaction, block precision, and the space the database may use (null: the volume's). */
  storage: LifecycleSettings & { volumeSizeBytes: number | null };
  api: { auditRetentionMs: number };
}

// Connections for everything but the sample writer (API reads, series, hosts, alerting, notifications, maintenance).
const OTHER_CONNECTIONS = 7;

/**
 * Opens the database (locking a PGlite data dir: one process at a time), waits for it to answer as configured,
 * migrates, prepares partitions, and builds the stores over it.
 */
export async function openStorage(opts: StorageOptions, log: Logger, clock: Clock): Promise<Storage> {
  const unlock = opts.databaseUrl ? () => {} : acquireDataDirLock(opts.dataDir);
  try {
    const store = await openDatabase({ databaseUrl: opts.databaseUrl, dataDir: opts.dataDir, poolSize: OTHER_CONNECTIONS + opts.ingest.writerConnections });
    if (opts.databaseUrl) {
      const target = databaseTarget(opts.databaseUrl);
      await waitForDatabase({ probe: store.probe, target, setting: opts.databaseUrlFrom ?? "database_url", waitMs: opts.waitForDbMs, clock, log }).catch(async (err: unknown) => {
        await store.close();
        throw err;
      });
    }
    const migrated = await migrate(store.db);
    log.info({ storage: store.kind, timescale: migrated.timescale, applied: migrated.applied }, "storage ready");
    const partitions = new PartitionManager(store.db, migrated.timescale);
    await partitions.ensureAround(clock.now());
    const stores = createStores(
      { db: store.db, kind: store.kind, partitions, clock, log },
      {
        maxQueuedRows: opts.ingest.maxQueuedRows,
        writerConnections: opts.ingest.writerConnections,
        lifecycle: opts.storage,
        stats: { databaseUrl: opts.databaseUrl, dataDir: opts.dataDir, volumeSizeBytes: opts.storage.volumeSizeBytes },
        auditRetentionMs: opts.api.auditRetentionMs,
      },
    );
    return {
      ...stores,
      kind: store.kind,
      async close() {
        await stores.ingest.close();
        await store.close();
        unlock();
      },
    };
  } catch (err) {
    unlock();
    throw err;
  }
}
