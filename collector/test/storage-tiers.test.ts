// The storage tiers against real databases: compaction keeps every sample, rollups and blocks answer exactly what
// the raw samples give, late samples are visible at once and merged later, a failed compaction loses nothing, and
// retention drops exactly what expired. Both on PostgreSQL (DATABASE_URL) and PGlite.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { sql, type Kysely } from "kysely";
import fc from "fast-check";
import { createLogger, ManualClock } from "@vigil/shared";
import { skipWithoutPostgres } from "../../test/support/postgres.js";
import type { Aggregation } from "../src/api/ports.js";
import type { OpenDatabase } from "../src/storage/database.js";
import { PostgresMetricsReader } from "../src/storage/metrics-reader.js";
import { migrate } from "../src/storage/migrator.js";
import { PartitionManager } from "../src/storage/partitions.js";
import { sampleHistory } from "../src/storage/sample-history.js";
import { insertSamples } from "../src/storage/sample-rows.js";
import type { Database } from "../src/storage/schema.js";
import { TierMaintenance, type LifecycleSettings } from "../src/storage/tiers/maintenance.js";
import type { RetentionSettings } from "../src/storage/tiers/retention.js";
import { openTestStorage, TEST_RETENTION, type StorageKind } from "./support/test-storage.js";

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 2); // a midnight
const log = createLogger("test", "silent");
const AGGS: Aggregation[] = ["avg", "min", "max", "sum", "last", "count"];

type Sample = [t: number, v: number];

/** The answer computed straight from raw samples: points at multiples of step in [start, end], each over (t − step, t]. */
function reference(samples: readonly Sample[], startMs: number, endMs: number, stepMs: number, agg: Aggregation): [number, number][] {
  const sorted = [...samples].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  let i = 0;
  for (let t = Math.ceil(startMs / stepMs) * stepMs; t <= endMs; t += stepMs) {
    while (i < sorted.length && sorted[i]![0] <= t - stepMs) i++;
    const vs: number[] = [];
    for (let j = i; j < sorted.length && sorted[j]![0] <= t; j++) vs.push(sorted[j]![1]);
    if (vs.length === 0) continue;
    const sum = vs.reduce((a, b) => a + b, 0);
    const v = { avg: sum / vs.length, min: Math.min(...vs), max: Math.max(...vs), sum, last: vs[vs.length - 1]!, count: vs.length }[agg];
    out.push([t, v]);
  }
  return out;
}

function close(got: [number, number][], want: [number, number][], rel: number, what: string): void {
  assert.deepEqual(got.map(([t]) => t), want.map(([t]) => t), `${what}: point times`);
  got.forEach(([, v], i) => {
    const w = want[i]![1];
    assert.ok(Math.abs(v - w) <= rel * Math.max(1, Math.abs(w)), `${what}: point ${i}: got ${v}, want ${w}`);
  });
}

function tierSuite(kind: StorageKind) {
  let store: OpenDatabase;
  let dispose: (() => Promise<void>) | undefined;
  let db: Kysely<Database>;
  let samples: PartitionManager;
  const clock = new ManualClock(T0 + 3 * DAY);
  let nextHost = 1;

  before(async () => {
    ({ store, dispose } = await openTestStorage(kind));
    db = store.db;
    const { timescale } = await migrate(db);
    if (kind === "timescale") assert.equal(timescale, true, "TIMESCALE_URL's server has the timescaledb extension");
    samples = new PartitionManager(db, timescale);
  });
  after(() => dispose?.());

  const settings = (over: Partial<LifecycleSettings> = {}): LifecycleSettings => ({ retention: TEST_RETENTION, compactAfterMs: HOUR, mantissaBits: 52, ...over });
  const maintenance = (over: Partial<LifecycleSettings> = {}) => new TierMaintenance(db, kind === "pglite" ? "pglite" : "postgres", samples, settings(over), log);
  const reader = (retention: RetentionSettings = TEST_RETENTION) => new PostgresMetricsReader(db, retention, clock);

  /** A new host with one series per metric name; returns the series ids. */
  async function newSeries(metrics: string[]): Promise<number[]> {
    const host = `h${nextHost++}`;
    const h = await sql<{ id: number }>`INSERT INTO hosts (name, agent_id, interval_ms) VALUES (${host}, ${host}, 10000) RETURNING id`.execute(db);
    const ids: number[] = [];
    for (const m of metrics) ids.push((await sql<{ id: number }>`INSERT INTO series (host_id, metric, labels) VALUES (${h.rows[0]!.id}, ${m}, '{}') RETURNING id`.execute(db)).rows[0]!.id);
    return ids;
  }

  async function write(id: number, points: readonly Sample[]): Promise<void> {
    if (points.length === 0) return;
    await samples.ensureFor(points.map(([t]) => t));
    await insertSamples(db, points.map(([t]) => t), points.map(() => id), points.map(([, v]) => v));
  }

  async function query(metric: string, id: number, startMs: number, endMs: number, stepMs: number, agg: Aggregation, retention?: RetentionSettings): Promise<[number, number][]> {
    const r = reader(retention);
    const sel = await r.selectSeries({ metric, exact: {}, accept: () => true, maxSeries: 1000, maxCandidates: 10_000, deadlineMs: clock.now() + 60_000 });
    const s = sel.series.filter((x) => x.id === id);
    for await (const got of r.readRange(s, { startMs, endMs, stepMs, agg, deadlineMs: clock.now() + 60_000 })) return JSON.parse(got.pointsJson) as [number, number][];
    return [];
  }

  const narrowCount = async (id: number) => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM samples WHERE series_id = ${id}`.execute(db)).rows[0]!.n;
  const blockCount = async (table: string, id: number) => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)} WHERE series_id = ${id}`.execute(db)).rows[0]!.n;
  /** Blocks of days still open, of one tier. */
  const freshCount = async (tier: string, id: number) => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM fresh_blocks WHERE tier = ${tier} AND series_id = ${id}`.execute(db)).rows[0]!.n;

  /** Every 10 s over [from, to), values that change every sample (full-mantissa noise) with a few repeats. */
  const series10s = (from: number, to: number, seed: number): Sample[] => {
    const out: Sample[] = [];
    for (let t = from; t < to; t += 10_000) out.push([t, t % 70_000 === 0 ? 5 : Math.sin(t / 1e7 + seed) * 100 + seed]);
    return out;
  };

  test("compaction keeps every sample exactly, replaces the narrow rows, merges closed days, and is idempotent", async () => {
    const [id] = await newSeries(["t.compact"]);
    const data = series10s(T0 - 2 * HOUR, T0 + 2 * DAY + 30 * MIN, 1);
    await write(id!, data);
    clock.set(T0 + 2 * DAY + 2 * HOUR);
    const report = await maintenance().run(clock.now());
    assert.equal(report.skipped, null);
    // Every hour ending by now − 1 h is compacted: everything up to T0 + 2d + 1h, i.e. all the data here.
    assert.equal(report.compactedSamples, data.length);
    assert.equal(await narrowCount(id!), 0);
    // Four days touched: the three closed ones one block each in the tier's table, the open one's hour in fresh_blocks.
    assert.equal(await blockCount("sample_blocks", id!), 3);
    assert.equal(await freshCount("raw", id!), 1);
    assert.equal(await blockCount("rollup_1h", id!), 3);
    assert.equal(await freshCount("1h", id!), 1);
    const again = await maintenance().run(clock.now());
    assert.equal(again.compactedSamples, 0, "a second run finds nothing to do");
    assert.equal(await blockCount("sample_blocks", id!) + (await freshCount("raw", id!)), 4);
    for (const agg of AGGS) {
      close(await query("t.compact", id!, T0 - 3 * HOUR, T0 + 2 * DAY + HOUR, 10_000, agg), reference(data, T0 - 3 * HOUR, T0 + 2 * DAY + HOUR, 10_000, agg), 0, `raw ${agg}`);
      close(await query("t.compact", id!, T0 - 3 * HOUR, T0 + 2 * DAY + HOUR, 5 * MIN, agg), reference(data, T0 - 3 * HOUR, T0 + 2 * DAY + HOUR, 5 * MIN, agg), 1e-12, `1m ${agg}`);
      close(await query("t.compact", id!, T0 - 3 * HOUR, T0 + 2 * DAY + HOUR, HOUR, agg), reference(data, T0 - 3 * HOUR, T0 + 2 * DAY + HOUR, HOUR, agg), 1e-12, `1h ${agg}`);
    }
  });

  test("late samples into compacted windows are visible at once, merged by the next run, and replays never count twice", async () => {
    const [id] = await newSeries(["t.late"]);
    const data = series10s(T0, T0 + 6 * HOUR, 2).filter(([t]) => t % 20_000 === 0);
    await write(id!, data);
    clock.set(T0 + 8 * HOUR);
    await maintenance().run(clock.now());
    assert.equal(await narrowCount(id!), 0);
    // A spool replay: the odd ticks arrive late, and part of what was stored already arrives again.
    const late = series10s(T0, T0 + 6 * HOUR, 2).filter(([t]) => t % 20_000 !== 0);
    const replayed = data.slice(100, 200);
    await write(id!, late);
    await write(id!, replayed);
    const all = [...data, ...late];
    const check = async (what: string) => {
      for (const [step, rel] of [[10_000, 0], [MIN, 1e-12], [HOUR, 1e-12]] as const) {
        for (const agg of AGGS) close(await query("t.late", id!, T0, T0 + 6 * HOUR, step, agg), reference(all, T0, T0 + 6 * HOUR, step, agg), rel, `${what} step ${step} ${agg}`);
      }
    };
    await check("before the merge");
    const r = await maintenance().run(clock.now());
    assert.equal(r.compactedSamples, late.length + replayed.length);
    assert.equal(await narrowCount(id!), 0);
    await check("after the merge");
  });

  test("rule dry runs replay compacted blocks and narrow rows alike, in time order", async () => {
    const a = (await newSeries(["t.history"]))[0]!;
    const b = (await newSeries(["t.history"]))[0]!;
    const base = T0 + 40 * DAY;
    const da = series10s(base, base + 3 * HOUR, 5);
    const db2 = series10s(base + 5000, base + 3 * HOUR, 6).filter(([t]) => t % 30_000 === 5000);
    await write(a, da);
    await write(b, db2);
    clock.set(base + 2 * HOUR + 30 * MIN);
    await maintenance().run(clock.now()); // the first hour compacted, the rest narrow
    const got: [number, number][] = [];
    for await (const page of sampleHistory(db, "t.history", base, base + 3 * HOUR)) for (const p of page) got.push([p.timeMs, p.value]);
    const want = [...da, ...db2].sort((x, y) => x[0] - y[0]);
    assert.equal(got.length, want.length);
    assert.deepEqual(got, want);
  });

  test("a compaction that fails midway leaves every row where it was; the next run completes it", async () => {
    const [id] = await newSeries(["t.fail"]);
    const data = series10s(T0, T0 + 3 * HOUR, 3);
    await write(id!, data);
    clock.set(T0 + 5 * HOUR);
    // An impossible precision makes the encoder throw inside the transaction, after the narrow rows were taken.
    await assert.rejects(maintenance({ mantissaBits: 0 }).run(clock.now()));
    assert.equal(await narrowCount(id!), data.length);
    assert.equal(await freshCount("raw", id!), 0);
    assert.equal(await freshCount("1m", id!), 0);
    const r = await maintenance().run(clock.now());
    assert.equal(r.compactedSamples, data.length);
    close(await query("t.fail", id!, T0, T0 + 3 * HOUR, 10_000, "sum"), reference(data, T0, T0 + 3 * HOUR, 10_000, "sum"), 0, "after the retry");
  });

  test("a stored block that cannot be decoded is left out of answers and left alone by compaction, and reported", async () => {
    const [good, bad] = await newSeries(["t.corrupt", "t.corrupt.other"]);
    const base = T0 + 50 * DAY;
    const data = series10s(base, base + 2 * HOUR, 7);
    await write(good!, data);
    await write(bad!, data);
    clock.set(base + 4 * HOUR);
    await maintenance().run(clock.now());
    // Its first sample (at midnight) is in the closed day before, the others in fresh_blocks: the day is still open.
    await sql`UPDATE fresh_blocks SET data = ${Buffer.from([1, 2, 3, 4, 5])} WHERE tier = 'raw' AND series_id = ${bad!}`.execute(db);
    await sql`UPDATE sample_blocks SET data = ${Buffer.from([1, 2, 3, 4, 5])} WHERE series_id = ${bad!}`.execute(db);
    const reported: string[] = [];
    const r = new PostgresMetricsReader(db, TEST_RETENTION, clock, (table, id) => reported.push(`${table}:${id}`));
    const sel = await r.selectSeries({ metric: "t.corrupt.other", exact: {}, accept: () => true, maxSeries: 10, maxCandidates: 10, deadlineMs: clock.now() + 60_000 });
    const answers = [];
    for await (const a of r.readRange(sel.series, { startMs: base, endMs: base + 2 * HOUR, stepMs: 10_000, agg: "avg", deadlineMs: clock.now() + 60_000 })) answers.push(a);
    assert.equal(answers.length, 0, "the series' only blocks are unreadable: no points, no failure");
    assert.ok(reported.includes(`sample_blocks:${bad!}`));
    // Late samples for both: the good series is merged, the bad one keeps its narrow rows and its block as they are.
    await write(good!, [[base + 5000, 1]]);
    await write(bad!, [[base + 5000, 1]]);
    const report = await maintenance().run(clock.now());
    assert.equal(report.corruptBlocks, 1);
    assert.equal(await narrowCount(good!), 0);
    assert.equal(await narrowCount(bad!), 1);
    const left = await sql<{ d: Uint8Array }>`SELECT data AS d FROM fresh_blocks WHERE tier = 'raw' AND series_id = ${bad!} UNION ALL SELECT data FROM sample_blocks WHERE series_id = ${bad!}`.execute(db);
    assert.deepEqual(left.rows.map((r) => r.d.byteLength), [5, 5, 5]);
    close(await query("t.corrupt", good!, base, base + 2 * HOUR, 10_000, "count"), reference([...data, [base + 5000, 1]], base, base + 2 * HOUR, 10_000, "count"), 0, "the good series");
  });

  test("answers from any tier equal the aggregation of the raw samples (property)", async () => {
    const [id] = await newSeries(["t.prop"]);
    const start = T0 + 10 * DAY;
    const arb = fc.record({
      // Up to 400 samples on 10 s ticks over two days, with arbitrary doubles.
      ticks: fc.uniqueArray(fc.integer({ min: 0, max: (2 * DAY) / 10_000 }), { minLength: 1, maxLength: 400 }),
      values: fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }), { minLength: 400, maxLength: 400 }),
      lateTicks: fc.uniqueArray(fc.integer({ min: 0, max: (2 * DAY) / 10_000 }), { maxLength: 50 }),
      compactAt: fc.integer({ min: 0, max: 3 * 24 }),
      q: fc.record({ from: fc.integer({ min: 0, max: 2 * 24 * 60 }), len: fc.integer({ min: 1, max: 2 * 24 * 60 }), step: fc.constantFrom(10_000, 30_000, MIN, 5 * MIN, 7 * MIN, HOUR, 3 * HOUR), agg: fc.constantFrom(...AGGS) }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ ticks, values, lateTicks, compactAt, q }) => {
        await sql`DELETE FROM samples WHERE series_id = ${id!}`.execute(db);
        for (const t of ["sample_blocks", "rollup_1m", "rollup_1h", "fresh_blocks"]) await sql`DELETE FROM ${sql.table(t)} WHERE series_id = ${id!}`.execute(db);
        const first: Sample[] = ticks.map((k, i) => [start + k * 10_000, values[i]!]);
        await write(id!, first);
        clock.set(start + compactAt * HOUR);
        await maintenance().run(clock.now());
        const known = new Set(first.map(([t]) => t));
        const late: Sample[] = lateTicks.filter((k) => !known.has(start + k * 10_000)).map((k) => [start + k * 10_000, k]);
        await write(id!, late);
        const all = [...first, ...late];
        const s = start + q.from * MIN;
        const e = s + q.len * MIN;
        close(await query("t.prop", id!, s, e, q.step, q.agg), reference(all, s, e, q.step, q.agg), 1e-9, "before the merge");
        clock.set(start + 3 * DAY);
        await maintenance().run(clock.now());
        close(await query("t.prop", id!, s, e, q.step, q.agg), reference(all, s, e, q.step, q.agg), 1e-9, "after the merge");
      }),
      { numRuns: kind === "pglite" ? 15 : 25 },
    );
  });

  test("retention drops whole partitions past each tier's retention, and an override deletes only its metric's blocks", async () => {
    const [keep, short] = await newSeries(["t.keep", "t.short.x"]);
    const base = T0 + 20 * DAY;
    for (const id of [keep!, short!]) await write(id, series10s(base, base + 3 * DAY, 4).filter(([t]) => t % MIN === 0));
    clock.set(base + 3 * DAY + 2 * HOUR);
    await maintenance().run(clock.now());
    const retention: RetentionSettings = { keep: { raw: 2 * DAY, "1m": 3 * DAY, "1h": 30 * DAY }, overrides: [{ match: "t.short.*", keep: { raw: DAY } }] };
    const r = await maintenance({ retention }).run(clock.now());
    const partitions = async (table: string) =>
      (await sql<{ name: string }>`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = ${table}::regclass`.execute(db)).rows.map((x) => x.name);
    const rawLeft = await partitions("sample_blocks");
    // Raw is kept 2 days: partitions that end by now − 2d are gone, the ones after stay.
    for (const name of rawLeft) {
      const m = /_(\d{4})(\d{2})(\d{2})$/.exec(name)!;
      assert.ok(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!) + DAY > clock.now() - 2 * DAY, `${name} should have been dropped`);
    }
    assert.ok(r.droppedPartitions.some((n) => n.startsWith("sample_blocks_")));
    // The override keeps t.short.* raw for 1 day: its blocks ending by now − 1d are gone, t.keep's are not.
    const ends = async (id: number) => (await sql<{ e: number }>`SELECT (extract(epoch FROM end_time) * 1000)::float8 AS e FROM sample_blocks WHERE series_id = ${id}`.execute(db)).rows.map((x) => x.e);
    assert.ok((await ends(short!)).every((e) => e > clock.now() - DAY));
    assert.ok((await ends(keep!)).some((e) => e <= clock.now() - DAY));
    assert.ok(r.deletedBlocks > 0);
    // The 1-hour rollups of both are all still there.
    assert.equal(await blockCount("rollup_1h", short!), await blockCount("rollup_1h", keep!));
  });

  test("a closed day that compaction emptied gives its disk back once vacuumed; a late row keeps it until compacted", { skip: kind === "timescale" ? "chunks, not partitions" : false }, async () => {
    const [id] = await newSeries(["t.reclaim"]);
    const day = T0 + 40 * DAY;
    const part = `samples_${new Date(day).toISOString().slice(0, 10).replaceAll("-", "")}`;
    const size = async () => (await sql<{ b: number }>`SELECT pg_total_relation_size(${part}::regclass)::float8 AS b`.execute(db)).rows[0]!.b;
    await write(id!, series10s(day, day + DAY, 5));
    const full = await size();
    const now = day + DAY + 2 * HOUR;
    await maintenance().run(now);
    // Autovacuum's work on PostgreSQL (PGlite's maintenance vacuums itself); the next run truncates.
    if (kind !== "pglite") await sql`VACUUM samples`.execute(db);
    await maintenance().run(now);
    assert.ok((await size()) <= 16_384, `${part} takes ${await size()} B after compaction, was ${full}`);
    assert.equal(await narrowCount(id!), 0);
    assert.equal((await query("t.reclaim", id!, day, day + DAY, HOUR, "count")).reduce((n, [, c]) => n + c, 0), 8640);
    // A late row is never truncated away: it stays in the partition until compaction takes it.
    await write(id!, [[day + 5_000, 1]]);
    if (kind !== "pglite") await sql`VACUUM samples`.execute(db);
    assert.equal(await narrowCount(id!), 1);
    await maintenance().run(now);
    assert.equal(await narrowCount(id!), 0);
    assert.equal((await query("t.reclaim", id!, day, day + DAY, HOUR, "count")).reduce((n, [, c]) => n + c, 0), 8641);
  });
}

describe("storage tiers on Postgres", { skip: skipWithoutPostgres() }, () => tierSuite("postgres"));
describe("storage tiers on PGlite", () => tierSuite("pglite"));
// TimescaleDB cannot be installed on our machines; set TIMESCALE_URL to a server that has it to run these.
describe("storage tiers on TimescaleDB", { skip: process.env.TIMESCALE_URL ? false : "TIMESCALE_URL is not set" }, () => tierSuite("timescale"));
