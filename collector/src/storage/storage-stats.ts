// What the database holds per storage tier and how soon its volume fills: GET /api/v1/storage, `vigil-collector
// storage stats`, the gauges on /metrics and the storage-filling rule all read it. Sizes come from the catalog, counts
// from the block rows' headers (their data is decoded only for the few oldest blocks), the narrow table's count from
// a scan up to a bound and the planner's estimate past it.
import { sql, type Kysely } from "kysely";
import type { StorageStatsReader, StorageTierName, StorageTierView, StorageView } from "../api/ports.js";
import { CodecError, decodeRaw, decodeRollup } from "./codec/index.js";
import { pgliteDir } from "./database.js";
import type { Database } from "./schema.js";
import { growthPerDay, readSizeHistory, type Growth } from "./size-history.js";
import { TIERS } from "./tiers/tier-spec.js";
import { measureVolume, serverDataDirectory, type LocalDirectory, type Volume } from "./volume.js";

export interface StorageStatsOptions {
  /** As the collector opened storage: PostgreSQL at this URL, else PGlite in dataDir. */
  databaseUrl?: string;
  dataDir: string;
  /** storage.volume_size: the space the database may use; null when not set. */
  volumeSizeBytes: number | null;
  /** Bounds on the work of one measure (tests make them small). */
  bounds?: { narrowRows: number; oldestBlocks: number };
}

/** Narrow rows are counted up to `narrowRows`, past it estimated; `oldestBlocks` are decoded per tier at most. */
const BOUNDS = { narrowRows: 1_000_000, oldestBlocks: 100 };

const BLOCK_TIERS = [
  { tier: "raw", spec: TIERS.raw, firstTime: (b: Uint8Array) => decodeRaw(b).times[0] },
  { tier: "1m", spec: TIERS["1m"], firstTime: (b: Uint8Array) => decodeRollup(b).times[0] },
  { tier: "1h", spec: TIERS["1h"], firstTime: (b: Uint8Array) => decodeRollup(b).times[0] },
] as const;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

interface TableSize {
  partitions: number;
  bytes: number;
  /** Sum of the partitions' reltuples (planner statistics; never-analysed partitions count 0). */
  tuples: number;
}

export class PostgresStorageStats implements StorageStatsReader {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly opts: StorageStatsOptions,
  ) {}

  async read(nowMs: number): Promise<StorageView> {
    const sizes = await this.tableSizes();
    const databaseBytes = (await sql<{ b: number }>`SELECT pg_database_size(current_database())::float8 AS b`.execute(this.db)).rows[0]!.b;
    const tiers = [await this.narrowTier(sizes.get("samples")!)];
    tiers.push(await this.freshTier(sizes.get("fresh_blocks")!));
    for (const t of BLOCK_TIERS) tiers.push(await this.blockTier(t.tier, t.spec.table, sizes.get(t.spec.table)!, t.firstTime));
    const growth = growthPerDay(await readSizeHistory(this.db), { timeMs: nowMs, bytes: databaseBytes });
    const local: LocalDirectory = this.opts.databaseUrl ? await serverDataDirectory(this.db, this.opts.databaseUrl) : { path: pgliteDir(this.opts.dataDir) };
    const { volume, reason } = await measureVolume(local, this.opts.volumeSizeBytes, databaseBytes);
    const full = forecast(volume, reason, growth);
    return {
      measuredAt: new Date(nowMs).toISOString(),
      database: { kind: this.opts.databaseUrl ? "postgres" : "pglite", bytes: databaseBytes },
      tiers,
      growth: { bytesPerDay: growth.bytesPerDay === null ? null : Math.round(growth.bytesPerDay), since: iso(growth.sinceMs), reason: growth.reason },
      volume: volume ? { ...volume, reason: null } : { source: null, path: null, sizeBytes: null, availableBytes: null, reason },
      daysUntilFull: full.days,
      daysUntilFullReason: full.reason,
    };
  }

  /** Every partition (or TimescaleDB chunk: also an inheritance child) of the four sample tables. */
  private async tableSizes(): Promise<Map<string, TableSize>> {
    const tables = ["samples", "fresh_blocks", ...BLOCK_TIERS.map((t) => t.spec.table)];
    const r = await sql<{ name: string } & TableSize>`
      SELECT t.name, count(i.inhrelid)::int AS partitions,
        (pg_total_relation_size(t.name::regclass) + coalesce(sum(pg_total_relation_size(i.inhrelid)), 0))::float8 AS bytes,
        coalesce(sum(greatest(c.reltuples, 0)), 0)::float8 AS tuples
      FROM unnest(${tables}::text[]) AS t(name)
      LEFT JOIN pg_inherits i ON i.inhparent = t.name::regclass
      LEFT JOIN pg_class c ON c.oid = i.inhrelid
      GROUP BY t.name`.execute(this.db);
    return new Map(r.rows.map(({ name, ...size }) => [name, size]));
  }

  private async narrowTier(size: TableSize): Promise<StorageTierView> {
    const limit = (this.opts.bounds ?? BOUNDS).narrowRows;
    const r = await sql<{ n: number; oldest: number | null }>`
      SELECT (SELECT count(*) FROM (SELECT 1 FROM samples LIMIT ${limit + 1}) x)::float8 AS n,
             (extract(epoch FROM (SELECT min(time) FROM samples)) * 1000)::float8 AS oldest`.execute(this.db);
    const { n, oldest } = r.rows[0]!;
    const estimated = n > limit;
    return tierView("narrow", "samples", size, estimated ? Math.max(n, size.tuples) : n, estimated, { t: oldest, exact: true });
  }

  /** Blocks of the days still open, of every tier (one small table: see migration 010). */
  private async freshTier(size: TableSize): Promise<StorageTierView> {
    const n = (await sql<{ n: number }>`SELECT coalesce(sum(n), 0)::float8 AS n FROM fresh_blocks`.execute(this.db)).rows[0]!.n;
    const cap = (this.opts.bounds ?? BOUNDS).oldestBlocks;
    const rows = await sql<{ s: number; tier: string; data: Uint8Array }>`
      SELECT (extract(epoch FROM start_time) * 1000)::float8 AS s, tier, data FROM fresh_blocks ORDER BY start_time LIMIT ${cap + 1}`.execute(this.db);
    const byData = new Map(rows.rows.map((r) => [r.data, r.tier]));
    const first = (b: Uint8Array) => (byData.get(b) === "raw" ? decodeRaw(b).times[0] : decodeRollup(b).times[0]);
    return tierView("fresh", "fresh_blocks", size, n, false, oldestPoint(rows.rows, cap, first));
  }

  private async blockTier(tier: StorageTierName, table: string, size: TableSize, firstTime: (b: Uint8Array) => number | undefined): Promise<StorageTierView> {
    const n = (await sql<{ n: number }>`SELECT coalesce(sum(n), 0)::float8 AS n FROM ${sql.table(table)}`.execute(this.db)).rows[0]!.n;
    const cap = (this.opts.bounds ?? BOUNDS).oldestBlocks;
    const rows = await sql<{ s: number; data: Uint8Array }>`
      SELECT (extract(epoch FROM start_time) * 1000)::float8 AS s, data FROM ${sql.table(table)} ORDER BY start_time LIMIT ${cap + 1}`.execute(this.db);
    return tierView(tier, table, size, n, false, oldestPoint(rows.rows, cap, firstTime));
  }
}

function tierView(tier: StorageTierName, table: string, size: TableSize, points: number, estimated: boolean, oldest: { t: number | null; exact: boolean }): StorageTierView {
  return {
    tier,
    table,
    partitions: size.partitions,
    bytes: size.bytes,
    points,
    pointsEstimated: estimated,
    bytesPerPoint: points > 0 ? Math.round((size.bytes / points) * 100) / 100 : null,
    oldestPoint: iso(oldest.t),
    oldestPointExact: oldest.exact,
  };
}

/**
 * The earliest first point of blocks taken in start order. A block's points are all after its start, so once a block
 * starts at or after the best time found, no later one holds an earlier point. Decoding stops after `cap` blocks
 * (then the answer is not exact); a block that cannot be decoded is skipped (nor is it then).
 */
export function oldestPoint(rows: readonly { s: number; data: Uint8Array }[], cap: number, firstTime: (b: Uint8Array) => number | undefined): { t: number | null; exact: boolean } {
  let best: number | null = null;
  let exact = true;
  for (const [i, r] of rows.entries()) {
    if (best !== null && r.s >= best) break;
    if (i === cap) return { t: best, exact: false };
    let first: number | undefined;
    try {
      first = firstTime(r.data);
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      exact = false;
      continue;
    }
    if (first !== undefined && (best === null || first < best)) best = first;
  }
  return { t: best, exact };
}

function forecast(volume: Volume | null, volumeReason: string | null, growth: Growth): { days: number | null; reason: string | null } {
  if (!volume) return { days: null, reason: `the volume is unknown: ${volumeReason}` };
  if (growth.bytesPerDay === null) return { days: null, reason: `growth is unknown: ${growth.reason}` };
  if (growth.bytesPerDay <= 0) return { days: null, reason: "the database is not growing" };
  return { days: Math.round((volume.availableBytes / growth.bytesPerDay) * 10) / 10, reason: null };
}
