// The storage lifecycle job, one run: partitions ahead, compaction of closed hours (with their rollups), merging of
// closed days, retention, the day's database size. On PostgreSQL a session advisory lock makes it one collector's job
// at a time; PGlite has one process by construction (its data-dir lock).
import { sql, type Kysely } from "kysely";
import type { Logger } from "@vigil/shared";
import type { MaintenanceReport, MaintenanceStore } from "../../maintenance/ports.js";
import { PartitionManager } from "../partitions.js";
import type { Database } from "../schema.js";
import { recordDatabaseSize } from "../size-history.js";
import { compactClosedHours, mergeClosedDays, noCounts } from "./compaction.js";
import { truncateEmptiedSamples } from "./reclaim.js";
import { applyRetention, type RetentionSettings } from "./retention.js";
import { TIERS, TIER_NAMES, type TierName, type TierTable } from "./tier-spec.js";

export interface LifecycleSettings {
  retention: RetentionSettings;
  /** A raw hour is compacted once it ended this long ago (late samples are merged by later runs anyway). */
  compactAfterMs: number;
  /** Mantissa bits kept for non-integer values in blocks (52: exact). */
  mantissaBits: number;
}

// Distinct from the migrations' lock key.
const LOCK_KEY = 0x76_69_67_6d;
/** What one narrow sample row costs (heap tuple + primary-key entry), measured on PostgreSQL 15 (84–94 B). */
const NARROW_ROW_BYTES = 90;
/** Series per compaction transaction. PGlite runs on the event loop: smaller statements keep ingest and /healthz responsive. */
const SERIES_PER_COMMIT = { postgres: 500, pglite: 50 } as const;
const MAX_WINDOWS_PER_RUN = 200_000;

export class TierMaintenance implements MaintenanceStore {
  readonly tierPartitions: Record<TierName, PartitionManager>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly kind: "postgres" | "pglite",
    private readonly samples: PartitionManager,
    private readonly settings: LifecycleSettings,
    private readonly log: Logger,
  ) {
    this.tierPartitions = Object.fromEntries(TIER_NAMES.map((t) => [t, new PartitionManager(db, false, TIERS[t])])) as Record<TierName, PartitionManager>;
  }

  async run(nowMs: number): Promise<MaintenanceReport> {
    if (this.kind === "pglite") return this.work(nowMs);
    return this.db.connection().execute(async (conn) => {
      const got = await sql<{ ok: boolean }>`SELECT pg_try_advisory_lock(${LOCK_KEY}) AS ok`.execute(conn);
      if (!got.rows[0]?.ok) return { ...emptyReport(), skipped: "another collector is running storage maintenance" };
      try {
        return await this.work(nowMs);
      } finally {
        await sql`SELECT pg_advisory_unlock(${LOCK_KEY})`.execute(conn);
      }
    });
  }

  private async work(nowMs: number): Promise<MaintenanceReport> {
    await this.samples.ensureAround(nowMs);
    for (const t of TIER_NAMES) await this.tierPartitions[t].ensureAround(nowMs);
    const counts = noCounts();
    const opts = {
      db: this.db,
      mantissaBits: this.settings.mantissaBits,
      ensurePartitions: (t: TierTable, times: Iterable<number>) => this.tierPartitions[t.tier].ensureFor(times),
      seriesPerCommit: SERIES_PER_COMMIT[this.kind],
      maxWindowsPerRun: MAX_WINDOWS_PER_RUN,
      onCorruptBlock: (table: string, seriesId: number, err: Error) =>
        this.log.error({ table, seriesId, err: err.message }, "a stored block cannot be decoded; left as it is, its series is not compacted"),
    };
    const horizon = nowMs - this.settings.compactAfterMs;
    await compactClosedHours(opts, horizon, counts);
    await mergeClosedDays(opts, horizon, counts);
    // Compacted rows leave dead tuples that every range read would step over until autovacuum came by (a 30-day
    // read took 196 ms instead of 5 in bench:storage), and PGlite has no autovacuum: vacuum now (fresh_blocks too,
    // whose rewritten blocks leave dead versions). The closed days it empties are then truncated: vacuum never
    // shrinks their index.
    if (counts.samples > 0) await sql`VACUUM samples, fresh_blocks`.execute(this.db);
    const truncated = await truncateEmptiedSamples(this.db, horizon);
    if (truncated.length > 0) this.log.debug({ partitions: truncated }, "emptied samples partitions truncated");
    const retention = await applyRetention(this.db, this.settings.retention, { samples: this.samples, tiers: this.tierPartitions }, nowMs);
    const oldest = await sql<{ t: number | null }>`SELECT (extract(epoch FROM min(time)) * 1000)::float8 AS t FROM samples`.execute(this.db);
    const t = oldest.rows[0]?.t ?? null;
    // After compaction and retention: the day's size as the day's work left it (storage stats measure growth on it).
    await recordDatabaseSize(this.db, nowMs);
    return {
      skipped: null,
      compactedWindows: counts.windows,
      compactedSamples: counts.samples,
      blocksWritten: counts.blocksWritten,
      bytesSaved: counts.samples * NARROW_ROW_BYTES - (counts.blockBytesWritten - counts.blockBytesReplaced),
      droppedPartitions: retention.droppedPartitions,
      deletedBlocks: retention.deletedBlocks,
      corruptBlocks: counts.corruptBlocks,
      lagMs: t === null ? 0 : Math.max(0, nowMs - t),
    };
  }
}

function emptyReport(): MaintenanceReport {
  return { skipped: null, compactedWindows: 0, compactedSamples: 0, blocksWritten: 0, bytesSaved: 0, droppedPartitions: [], deletedBlocks: 0, corruptBlocks: 0, lagMs: 0 };
}
