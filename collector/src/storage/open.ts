import type { Kysely } from "kysely";
import type { Clock, Logger } from "@vigil/shared";
import { openDatabase } from "./database.js";
import { acquireDataDirLock } from "./data-dir-lock.js";
import { migrate } from "./migrator.js";
import { PartitionManager } from "./partitions.js";
import type { Database } from "./schema.js";

export interface Storage {
  db: Kysely<Database>;
  kind: "postgres" | "pglite";
  partitions: PartitionManager;
  close(): Promise<void>;
}

/** Opens the database (locking a PGlite data dir: one process at a time), migrates, prepares partitions. */
export async function openStorage(opts: { databaseUrl?: string; dataDir: string }, log: Logger, clock: Clock): Promise<Storage> {
  const unlock = opts.databaseUrl ? () => {} : acquireDataDirLock(opts.dataDir);
  try {
    const store = await openDatabase({ databaseUrl: opts.databaseUrl, dataDir: opts.dataDir });
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
