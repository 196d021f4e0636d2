import type { Kysely } from "kysely";
import type { Clock, Logger } from "@vigil/shared";
import { databaseTarget } from "./connect-error.js";
import { openDatabase } from "./database.js";
import { acquireDataDirLock } from "./data-dir-lock.js";
import { migrate } from "./migrator.js";
import { PartitionManager } from "./partitions.js";
import type { Database } from "./schema.js";
import { waitForDatabase } from "./wait-for-database.js";

export interface Storage {
  db: Kysely<Database>;
  kind: "postgres" | "pglite";
  partitions: PartitionManager;
  close(): Promise<void>;
}

export interface StorageOptions {
  databaseUrl?: string;
  /** The setting that gave databaseUrl, named in errors ("DATABASE_URL", "database_url in FILE"). */
  databaseUrlFrom?: string;
  dataDir: string;
  /** How long to keep retrying an unreachable database at start (0: fail at once; Infinity: until stopped). */
  waitForDbMs: number;
  /** Postgres connections kept for the sample writer, on top of the others' (PGlite has one connection in all). */
  writerConnections?: number;
}

// Connections for everything but the sample writer (API reads, series, hosts, alerting, notifications, maintenance).
const OTHER_CONNECTIONS = 7;

/**
 * Opens the database (locking a PGlite data dir: one process at a time), waits for it to answer as configured,
 * migrates, prepares partitions.
 */
export async function openStorage(opts: StorageOptions, log: Logger, clock: Clock): Promise<Storage> {
  const unlock = opts.databaseUrl ? () => {} : acquireDataDirLock(opts.dataDir);
  try {
    const store = await openDatabase({ databaseUrl: opts.databaseUrl, dataDir: opts.dataDir, poolSize: OTHER_CONNECTIONS + (opts.writerConnections ?? 1) });
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
    return {
      db: store.db,
      kind: store.kind,
      partitions,
      async close() {
        await store.close();
        unlock();
      },
    };
  } catch (err) {
    unlock();
    throw err;
  }
}
