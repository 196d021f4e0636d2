// Range reads in bounded pieces: chunking and time windows give the same answer as one statement would, series
// selection pages through candidates with the label matchers and stops at its bounds, and the deadline cancels SQL.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { sql } from "kysely";
import { ManualClock, systemClock } from "@vigil/shared";
import { compileLabelMatchers } from "@vigil/shared/label-matchers";
import { skipWithoutPostgres } from "../../test/support/postgres.js";
import type { RangeRead, SelectedSeries } from "../src/api/ports.js";
import { CollectorError } from "../src/errors.js";
import type { OpenDatabase } from "../src/storage/database.js";
import { openTestStorage, TEST_RETENTION } from "./support/test-storage.js";
import { migrate } from "../src/storage/migrator.js";
import { PartitionManager } from "../src/storage/partitions.js";
import { PostgresMetricsReader } from "../src/storage/metrics-reader.js";
import { planChunks, SeriesSelect } from "../src/storage/range-reader.js";
import { readWithin } from "../src/storage/timed-read.js";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 20);

describe("planChunks", () => {
  const series = (n: number, intervalMs: number): SelectedSeries[] => Array.from({ length: n }, (_, i) => ({ id: i + 1, metric: "m", labels: {}, intervalMs }));

  test("series share statements up to the output bound, in order", () => {
    const chunks = planChunks(series(250, 10_000), { startMs: T0, endMs: T0 + 3_600_000, stepMs: 15_000 });
    assert.deepEqual(chunks.map((c) => c.series.length), [82, 82, 82, 4]); // 241 points each, ≤ 20,000 a statement
    assert.deepEqual(chunks.flatMap((c) => c.series.map((s) => s.id)), series(250, 0).map((s) => s.id));
    assert.ok(chunks.every((c) => c.windows.length === 1 && c.windows[0]!.fromMs === T0 - 15_000 && c.windows[0]!.toMs === T0 + 3_600_000));
  });

  test("a series too long for one statement is read alone in step-aligned windows covering the range", () => {
    const r = { startMs: T0 + 7_000, endMs: T0 + 3 * DAY, stepMs: 60_000 };
    const chunks = planChunks(series(3, 1000), r); // 259,194 samples each
    assert.equal(chunks.length, 3);
    for (const c of chunks) {
      assert.equal(c.series.length, 1);
      const w = c.windows;
      assert.equal(w.length, 2);
      // (first point − step, last point]: the first point is the first multiple of the step at or after start.
      assert.equal(w[0]!.fromMs, T0 + 60_000 - 60_000);
      assert.equal(w.at(-1)!.toMs, r.endMs);
      for (let i = 1; i < w.length; i++) {
        assert.equal(w[i]!.fromMs, w[i - 1]!.toMs, "contiguous");
        assert.equal(w[i]!.fromMs % r.stepMs, 0, "aligned to the step");
      }
    }
  });
});

function rangeSuite(kind: "postgres" | "pglite") {
  let store: OpenDatabase;
  let dispose: (() => Promise<void>) | undefined;
  let reader: PostgresMetricsReader;
  const far = () => Date.now() + 60_000;

  before(async () => {
    ({ store, dispose } = await openTestStorage(kind));
    await migrate(store.db);
    const partitions = new PartitionManager(store.db, false);
    await partitions.ensureFor([T0, T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY]);
    // Host a (1 s interval): 150 series "wide" with a point a minute for an hour; one series "long" with a point
    // every 10 min over 3 days (its declared interval makes it "too long" for one statement). Host b: 3 series.
    await sql`INSERT INTO hosts (name, agent_id, interval_ms) VALUES ('a', 'a', 1000), ('b', 'b', 10000)`.execute(store.db);
    await sql`INSERT INTO series (host_id, metric, labels)
      SELECT 1, 'wide', jsonb_build_object('i', g::text, 'parity', CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END) FROM generate_series(0, 149) g`.execute(store.db);
    await sql`INSERT INTO series (host_id, metric, labels) VALUES (1, 'long', '{}'), (2, 'wide', '{"i":"b0","parity":"even"}'), (2, 'wide', '{"i":"b1"}'), (2, 'wide', '{"i":"b2","cpu":"0"}')`.execute(store.db);
    await sql`INSERT INTO samples (time, series_id, value)
      SELECT to_timestamp(${T0 / 1000}::float8 + m * 60), s.id, s.id * 1000 + m FROM series s, generate_series(0, 59) m WHERE s.metric = 'wide'`.execute(store.db);
    await sql`INSERT INTO samples (time, series_id, value)
      SELECT to_timestamp(${T0 / 1000}::float8 + k * 600), s.id, k FROM series s, generate_series(0, 432) k WHERE s.metric = 'long'`.execute(store.db);
    reader = new PostgresMetricsReader(store.db, TEST_RETENTION, systemClock);
  });
  after(() => dispose?.());

  const select = (metric: string, match: Record<string, string>, over: { host?: string; exact?: Record<string, string>; maxSeries?: number; maxCandidates?: number } = {}) =>
    reader.selectSeries({ metric, host: over.host, exact: over.exact ?? {}, accept: compileLabelMatchers(match), maxSeries: over.maxSeries ?? 1000, maxCandidates: over.maxCandidates ?? 10_000, deadlineMs: far() });

  const read = async (series: readonly SelectedSeries[], r: Omit<RangeRead, "deadlineMs">) => {
    const out: { labels: Record<string, string>; points: [number, number][] }[] = [];
    for await (const s of reader.readRange(series, { ...r, deadlineMs: far() })) out.push({ labels: s.labels, points: JSON.parse(s.pointsJson) as [number, number][] });
    return out;
  };

  test("selection pages through candidates with the matchers; exact labels and host narrow them in SQL", async () => {
    const all = await select("wide", {});
    assert.equal(all.series.length, 153);
    assert.equal(all.overflow, null);
    assert.deepEqual(all.series.slice(0, 2).map((s) => s.labels), [{ i: "0", parity: "even", host: "a" }, { i: "1", parity: "odd", host: "a" }]);
    assert.equal(all.series[0]!.intervalMs, 1000);
    const ids = all.series.map((s) => s.id);
    assert.deepEqual(ids, [...ids].sort((x, y) => x - y), "ordered by id");
    assert.equal((await select("wide", { i: "~1[0-9]" })).series.length, 10);
    assert.equal((await select("wide", { parity: "!~ev.*" })).series.length, 77); // 75 odd, b1 and b2 without parity
    assert.deepEqual((await select("wide", { parity: "", cpu: "" })).series.map((s) => s.labels.i), ["b1"]);
    assert.deepEqual((await select("wide", { cpu: "!" })).series.map((s) => s.labels.i), ["b2"]);
    assert.deepEqual((await select("wide", { parity: "even" }, { exact: { parity: "even", host: "b" } })).series.map((s) => s.labels.i), ["b0"]);
    assert.equal((await select("wide", { parity: "even" }, { host: "a", exact: { parity: "even" } })).series.length, 75);
    assert.equal((await select("wide", {}, { host: "a", exact: { host: "b" } })).series.length, 0, "two different hosts match nothing");
  });

  test("selection stops at its bounds", async () => {
    const many = await select("wide", { parity: "even" }, { maxSeries: 10 });
    assert.equal(many.overflow, "series");
    assert.equal(many.series.length, 10);
    const candidates = await select("wide", { i: "b2" }, { maxCandidates: 100 });
    assert.equal(candidates.overflow, "candidates");
  });

  test("chunked reads (several statements) give every series its points, in order", async () => {
    const sel = await select("wide", {}, { host: "a" });
    // 150 series × 241 buckets of 15 s: more than one statement's worth of points.
    const got = await read(sel.series, { startMs: T0, endMs: T0 + 3_600_000, stepMs: 15_000, agg: "max" });
    assert.equal(got.length, 150);
    for (const [n, s] of got.entries()) {
      assert.equal(s.labels.i, String(n));
      assert.equal(s.points.length, 60);
      assert.deepEqual(s.points[3], [T0 + 180_000, sel.series[n]!.id * 1000 + 3]);
    }
    // The point at T0 + 10 min sums the samples in (T0, T0 + 10 min]: minutes 1 to 10.
    const sum = await read(sel.series.slice(0, 1), { startMs: T0, endMs: T0 + 3_600_000, stepMs: 600_000, agg: "sum" });
    assert.deepEqual(sum[0]!.points[1], [T0 + 600_000, 10 * sel.series[0]!.id * 1000 + 55]);
  });

  test("a long series read in windows equals the aggregate over the whole range", async () => {
    const sel = await select("long", {});
    const startMs = T0 + 30 * 60_000 + 7000;
    const endMs = T0 + 3 * DAY;
    const got = await read(sel.series, { startMs, endMs, stepMs: 3_600_000, agg: "avg" });
    // Expected: points at the whole hours in [start, end], each the average of the samples (k every 10 min, value
    // k) in the hour up to and including it.
    const first = Math.ceil(startMs / 3_600_000) * 3_600_000;
    const buckets = new Map<number, number[]>();
    for (let k = 0; k <= 432; k++) {
      const t = T0 + k * 600_000;
      if (t <= first - 3_600_000 || t > endMs) continue;
      const b = Math.ceil(t / 3_600_000) * 3_600_000;
      buckets.set(b, [...(buckets.get(b) ?? []), k]);
    }
    const want = [...buckets].map(([b, ks]) => [b, ks.reduce((x, y) => x + y, 0) / ks.length]);
    assert.deepEqual(got[0]!.points, want);
  });

  test("a deadline already passed refuses to start a read", async () => {
    const clock = new ManualClock(Date.now() + DAY);
    const late = new SeriesSelect(store.db, clock);
    await assert.rejects(
      late.selectSeries({ metric: "wide", exact: {}, accept: () => true, maxSeries: 10, maxCandidates: 10, deadlineMs: Date.now() }),
      (err: unknown) => err instanceof CollectorError && err.code === "VGL_ERR_QUERY_TIMEOUT",
    );
  });

  if (kind === "postgres") {
    test("Postgres cancels a statement still running at the deadline", async () => {
      const t0 = Date.now();
      await assert.rejects(
        readWithin(store.db, systemClock, Date.now() + 300, (trx) => sql`SELECT pg_sleep(10)`.execute(trx)),
        (err: unknown) => err instanceof CollectorError && err.code === "VGL_ERR_QUERY_TIMEOUT" && /api\.query_timeout/.test(err.message),
      );
      assert.ok(Date.now() - t0 < 3000, `cancelled after ${Date.now() - t0} ms`);
      const running = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep%' AND state = 'active'`.execute(store.db);
      assert.equal(running.rows[0]!.n, 0);
      // The setting was local to that transaction.
      const setting = await sql<{ s: string }>`SELECT current_setting('statement_timeout') AS s`.execute(store.db);
      assert.equal(setting.rows[0]!.s, "0");
    });
  }
}

describe("range reads on Postgres", { skip: skipWithoutPostgres() }, () => rangeSuite("postgres"));
describe("range reads on PGlite", () => rangeSuite("pglite"));
