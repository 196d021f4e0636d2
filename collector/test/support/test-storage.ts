// One database per storage test suite: a fresh PostgreSQL database (from DATABASE_URL) or a PGlite directory,
// closed and removed by `dispose`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase } from "../../../test/support/postgres.js";
import { openDatabase, type OpenDatabase } from "../../src/storage/database.js";
import type { RetentionSettings } from "../../src/storage/tiers/retention.js";

const DAY = 86_400_000;

/** "timescale": a database on the server of TIMESCALE_URL (PostgreSQL with the timescaledb extension installable). */
export type StorageKind = "postgres" | "pglite" | "timescale";

/** The collector's default retention (config `storage.retention`). */
export const TEST_RETENTION: RetentionSettings = { keep: { raw: 15 * DAY, "1m": 90 * DAY, "1h": 730 * DAY }, overrides: [] };

/** The opened database, and where it is: the PostgreSQL URL, or PGlite's data dir. */
export interface TestStorage {
  store: OpenDatabase;
  databaseUrl?: string;
  dataDir: string;
  dispose(): Promise<void>;
}

export async function openTestStorage(kind: StorageKind): Promise<TestStorage> {
  if (kind === "postgres" || kind === "timescale") {
    const testDb = await createTestDatabase(kind === "timescale" ? process.env.TIMESCALE_URL : undefined);
    const store = await openDatabase({ databaseUrl: testDb.url, dataDir: "" });
    return { store, databaseUrl: testDb.url, dataDir: "", dispose: async () => (await store.close(), await testDb.drop()) };
  }
  const dir = mkdtempSync(join(tmpdir(), "vigil-pglite-"));
  const store = await openDatabase({ dataDir: dir });
  return { store, dataDir: dir, dispose: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
}
