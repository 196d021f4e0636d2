// Storage stats against real databases with known contents: per tier the points written, the oldest point to the
// millisecond and a size; the database size history the maintenance run keeps; growth and days until the volume
// fills from that history and storage.volume_size. Both on PostgreSQL (DATABASE_URL) and PGlite.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { sql, type Kysely } from "kysely";
import { createLogger } from "@vigil/shared";
import { skipWithoutPostgres } from "../../test/support/postgres.js";
import type { StorageTierView } from "../src/api/ports.js";
import { pgliteDir } from "../src/storage/database.js";
import { migrate } from "../src/storage/migrator.js";
import { PartitionManager } from "../src/storage/partitions.js";
import { insertSamples } from "../src/storage/sample-rows.js";
import type { Database } from "../src/storage/schema.js";
import { recordDatabaseSize, readSizeHistory } from "../src/storage/size-history.js";
import { PostgresStorageStats } from "../src/storage/storage-stats.js";
import { TierMaintenance } from "../src/storage/tiers/maintenance.js";
import { openTestStorage, TEST_RETENTION } from "./support/test-storage.js";

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 2); // a midnight
const NOW = T0 + 12 * HOUR;
const log = createLogger("test", "silent");

const distinct = (xs: readonly string[]): number => new Set(xs).size;

function statsSuite(kind: "postgres" | "pglite") {
  let db: Kysely<Database>;
  let dispose: (() => Promise<void>) | undefined;
  let dataDir = "";
  let databaseUrl: string | undefined;

  before(async () => {
    const opened = await openTestStorage(kind);
    ({ dispose } = opened);
    db = opened.store.db;
    ({ dataDir, databaseUrl } = opened);
    await migrate(db);
  });
  after(() => dispose?.());

  const stats = (volumeSizeBytes: number | null = null) => new PostgresStorageStats(db, { databaseUrl, dataDir, volumeSizeBytes });
  const tier = (tiers: StorageTierView[], name: string): StorageTierView => tiers.find((t) => t.tier === name)!;
  const databaseBytes = async () => (await sql<{ b: number }>`SELECT pg_database_size(current_database())::float8 AS b`.execute(db)).rows[0]!.b;
  const setHistory = async (rows: [timeMs: number, bytes: number][]) => {
    await sql`DELETE FROM storage_history`.execute(db);
    for (const [t, b] of rows) await sql`INSERT INTO storage_history (day, time, database_bytes) VALUES (${new Date(t).toISOString().slice(0, 10)}::date, ${new Date(t).toISOString()}::timestamptz, ${b})`.execute(db);
  };

  test("per tier: the points written, the oldest point exactly, a size; the database holds them all", async () => {
    const h = await sql<{ id: number }>`INSERT INTO hosts (name, agent_id, interval_ms) VALUES ('s1', 's1', 10000) RETURNING id`.execute(db);
    const ids: number[] = [];
    for (const m of ["t.dense", "t.sparse"]) ids.push((await sql<{ id: number }>`INSERT INTO series (host_id, metric, labels) VALUES (${h.rows[0]!.id}, ${m}, '{}') RETURNING id`.execute(db)).rows[0]!.id);
    // Dense: every 10 s over five hours up to 11:50 (what ended by 11:00 is compacted at noon). Sparse: a few odd
    // times, the earliest the day before (a closed day, merged into a day block).
    const points: [series: number, t: number][] = [];
    for (let t = T0 + 7 * HOUR + 3_000; t < T0 + 11 * HOUR + 50 * MIN; t += 10_000) points.push([ids[0]!, t]);
    for (const t of [T0 - 5 * HOUR + 7_123, T0 + 2 * HOUR + 59 * MIN + 1, T0 + 11 * HOUR + 30 * MIN + 7]) points.push([ids[1]!, t]);
    const samples = new PartitionManager(db, false);
    await samples.ensureFor(points.map(([, t]) => t));
    await insertSamples(db, points.map(([, t]) => t), points.map(([id]) => id), points.map((_, i) => i * 0.5));
    const report = await new TierMaintenance(db, kind, samples, { retention: TEST_RETENTION, compactAfterMs: HOUR, mantissaBits: 52 }, log).run(NOW);

    const compacted = points.filter(([, t]) => t <= T0 + 11 * HOUR);
    const narrow = points.filter(([, t]) => t > T0 + 11 * HOUR);
    assert.equal(report.compactedSamples, compacted.length);
    const view = await stats().read(NOW);
    assert.equal(view.measuredAt, new Date(NOW).toISOString());
    assert.equal(view.database.kind, kind);
    assert.deepEqual(view.tiers.map((t) => [t.tier, t.table]), [["narrow", "samples"], ["fresh", "fresh_blocks"], ["raw", "sample_blocks"], ["1m", "rollup_1m"], ["1h", "rollup_1h"]]);
    // The day before has closed: its blocks are in the tiers' tables; today's compacted hours are in fresh_blocks.
    const closed = compacted.filter(([, t]) => t <= T0);
    const open = compacted.filter(([, t]) => t > T0);
    const oldest = Math.min(...closed.map(([, t]) => t));
    const minutes = (pts: typeof points) => distinct(pts.map(([id, t]) => `${id}:${Math.ceil(t / MIN)}`));
    const hours = (pts: typeof points) => distinct(pts.map(([id, t]) => `${id}:${Math.ceil(t / HOUR)}`));
    const expect = {
      narrow: { points: narrow.length, oldest: Math.min(...narrow.map(([, t]) => t)) },
      fresh: { points: open.length + minutes(open) + hours(open), oldest: Math.min(...open.map(([, t]) => t)) },
      raw: { points: closed.length, oldest },
      "1m": { points: minutes(closed), oldest: Math.ceil(oldest / MIN) * MIN },
      "1h": { points: hours(closed), oldest: Math.ceil(oldest / HOUR) * HOUR },
    };
    for (const [name, want] of Object.entries(expect)) {
      const t = tier(view.tiers, name);
      assert.equal(t.points, want.points, `${name}: points`);
      assert.equal(t.pointsEstimated, false, `${name}: counted`);
      assert.equal(t.oldestPoint, new Date(want.oldest).toISOString(), `${name}: oldest point`);
      assert.equal(t.oldestPointExact, true, `${name}: oldest exact`);
      assert.ok(t.bytes > 0 && (t.partitions > 0) === (name !== "fresh"), `${name}: ${t.bytes} bytes in ${t.partitions} partitions`);
      assert.equal(t.bytesPerPoint, Math.round((t.bytes / t.points) * 100) / 100, `${name}: bytes per point`);
    }
    const tierBytes = view.tiers.reduce((n, t) => n + t.bytes, 0);
    assert.ok(view.database.bytes > tierBytes, `database ${view.database.bytes} B holds the tiers' ${tierBytes} B`);
  });

  test("past its bounds a measure estimates the narrow rows, and says when the oldest point may be earlier", async () => {
    // Another series' sample the day before: two raw blocks now start at that day's midnight.
    const h = await sql<{ id: number }>`INSERT INTO hosts (name, agent_id, interval_ms) VALUES ('s2', 's2', 10000) RETURNING id`.execute(db);
    const id = (await sql<{ id: number }>`INSERT INTO series (host_id, metric, labels) VALUES (${h.rows[0]!.id}, 't.other', '{}') RETURNING id`.execute(db)).rows[0]!.id;
    await insertSamples(db, [T0 - 3 * HOUR], [id], [1]);
    const samples = new PartitionManager(db, false);
    assert.equal((await new TierMaintenance(db, kind, samples, { retention: TEST_RETENTION, compactAfterMs: HOUR, mantissaBits: 52 }, log).run(NOW)).compactedSamples, 1);
    // The planner's figure is then the estimate: analysed, it is the exact count here.
    await sql`ANALYZE samples`.execute(db);
    const narrowRows = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM samples`.execute(db)).rows[0]!.n;
    const bounded = await new PostgresStorageStats(db, { databaseUrl, dataDir, volumeSizeBytes: null, bounds: { narrowRows: 2, oldestBlocks: 1 } }).read(NOW);
    assert.deepEqual([tier(bounded.tiers, "narrow").points, tier(bounded.tiers, "narrow").pointsEstimated], [narrowRows, true]);
    const firsts = [T0 - 5 * HOUR + 7_123, T0 - 3 * HOUR].map((t) => new Date(t).toISOString());
    const raw = tier(bounded.tiers, "raw");
    assert.equal(raw.oldestPointExact, false);
    assert.ok(firsts.includes(raw.oldestPoint!), `${raw.oldestPoint} is one of the two blocks' first points`);
    const full = await new PostgresStorageStats(db, { databaseUrl, dataDir, volumeSizeBytes: null, bounds: { narrowRows: narrowRows, oldestBlocks: 2 } }).read(NOW);
    assert.deepEqual([tier(full.tiers, "narrow").points, tier(full.tiers, "narrow").pointsEstimated], [narrowRows, false]);
    assert.deepEqual([tier(full.tiers, "raw").oldestPoint, tier(full.tiers, "raw").oldestPointExact], [firsts[0], true]);
  });

  test("each maintenance run's day keeps its first size; rows older than 30 days are deleted", async () => {
    await setHistory([]);
    await recordDatabaseSize(db, NOW);
    const first = await readSizeHistory(db);
    assert.deepEqual(first.map((h) => h.timeMs), [NOW]);
    assert.ok(first[0]!.bytes > 0);
    await recordDatabaseSize(db, NOW + HOUR);
    assert.deepEqual((await readSizeHistory(db)).map((h) => h.timeMs), [NOW], "the day's first measure stays");
    await recordDatabaseSize(db, NOW + DAY);
    await recordDatabaseSize(db, NOW + 31 * DAY);
    assert.deepEqual((await readSizeHistory(db)).map((h) => h.timeMs), [NOW + DAY, NOW + 31 * DAY]);
  });

  test("growth per day from the size history, and days until storage.volume_size is used up", async () => {
    const before = await databaseBytes();
    await setHistory([[NOW - 3 * DAY, before - 3_000_000], [NOW - 2 * DAY, 1]]);
    const volume = before + 10_000_000;
    const view = await stats(volume).read(NOW);
    const now = view.database.bytes;
    // Three days back is the oldest measure (the history is shorter than a week): it counts, the later one does not.
    const perDay = (now - (before - 3_000_000)) / 3;
    assert.deepEqual(view.growth, { bytesPerDay: Math.round(perDay), since: new Date(NOW - 3 * DAY).toISOString(), reason: null });
    // The setting leaves less room than any disk here: it is the volume.
    assert.deepEqual(view.volume, { source: "setting", path: null, sizeBytes: volume, availableBytes: volume - now, reason: null });
    assert.equal(view.daysUntilFull, Math.round(((volume - now) / perDay) * 10) / 10);
    assert.equal(view.daysUntilFullReason, null);
  });

  test("a shrinking database never fills; less than a day of history gives no growth, saying why", async () => {
    await setHistory([[NOW - 3 * DAY, 1e12]]);
    const shrinking = await stats(1e12).read(NOW);
    assert.ok(shrinking.growth.bytesPerDay! < 0);
    assert.equal(shrinking.daysUntilFull, null);
    assert.equal(shrinking.daysUntilFullReason, "the database is not growing");
    await setHistory([[NOW - 2 * HOUR, 1]]);
    const young = await stats(1e12).read(NOW);
    assert.deepEqual(young.growth, { bytesPerDay: null, since: null, reason: `less than a day of size history (it starts ${new Date(NOW - 2 * HOUR).toISOString()})` });
    assert.equal(young.daysUntilFullReason, `growth is unknown: ${young.growth.reason}`);
  });

  test("without storage.volume_size the volume is the data directory's filesystem when it is here", async () => {
    const view = await stats().read(NOW);
    if (kind === "pglite") {
      assert.equal(view.volume.source, "statfs");
      assert.equal(view.volume.path, pgliteDir(dataDir));
    } else {
      // The server's data directory is visible only when it runs here and tells it (superuser): else the reason.
      const dir = await sql<{ d: string }>`SELECT current_setting('data_directory') AS d`.execute(db).then((r) => r.rows[0]!.d, () => null);
      if (view.volume.source === "statfs") assert.equal(view.volume.path, dir);
      else assert.match(String(view.volume.reason), /: set storage\.volume_size$/);
    }
    if (view.volume.source === "statfs") {
      assert.ok(view.volume.availableBytes! > 0 && view.volume.availableBytes! <= view.volume.sizeBytes!);
      assert.equal(view.volume.reason, null);
    }
  });
}

describe("storage stats on Postgres", { skip: skipWithoutPostgres() }, () => statsSuite("postgres"));
describe("storage stats on PGlite", () => statsSuite("pglite"));
