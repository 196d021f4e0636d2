// Item 3: three concurrent query_range calls of 2,000 series × 3,000 points exhausted the heap (146 MB of JSON per
// answer). Now the work of a request is estimated before any sample is read and refused over the bounds (422 naming
// the limit and the figures); answers within them are streamed, and heavy ones run a few at a time (429 beyond).
import assert from "node:assert/strict";
import type { HostileContext, HostileItem, HttpAnswer } from "../harness.js";
import { seedSeries } from "../seed-series.js";

const HOST = "hostile-bulk";
const METRIC = "hostile.bulk";
const SERIES = 2000;
const RANGE_S = 3000;

interface RangeBody {
  series: { metric: string; labels: Record<string, string>; points: [number, number][] }[];
}

function errorOf(r: HttpAnswer): { code: string; message: string } {
  const e = (r.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  assert.ok(e && typeof e.code === "string" && typeof e.message === "string", `not an error body: ${r.status} ${r.text.slice(0, 200)}`);
  return { code: e.code, message: e.message };
}

export const item: HostileItem = {
  title: "3. huge concurrent range queries are refused or streamed, never held in memory",
  tokens: [{ name: HOST }],
  async run(ctx: HostileContext) {
    const endS = Math.floor(Date.now() / 1000) - 60;
    const startS = endS - RANGE_S;
    // PostgreSQL: a point every 10 s (600k points); through the ingest API on PGlite, every 100 s.
    const every = ctx.pg ? 10 : 100;
    const times: number[] = [];
    for (let t = startS + every; t <= endS; t += every) times.push(t * 1000);
    const t0 = Date.now();
    await seedSeries(ctx, { host: HOST, metric: METRIC, labels: Array.from({ length: SERIES }, (_, i) => ({ i: String(i) })), times });
    process.stderr.write(`# item 3: seeded ${SERIES} series × ${times.length} points in ${Date.now() - t0} ms\n`);

    // 2,000 series × 3,001 steps = 6 million points each: refused before a sample is read, all three, fast.
    const huge = `/api/v1/query_range?metric=${METRIC}&start=${startS}&end=${endS}&step=1s`;
    const started = Date.now();
    const answers = await Promise.all([0, 1, 2].map(() => ctx.http("GET", huge)));
    for (const r of answers) {
      assert.equal(r.status, 422, r.text.slice(0, 300));
      const e = errorOf(r);
      assert.equal(e.code, "VGL_ERR_LIMIT_EXCEEDED");
      assert.match(e.message, /api\.max_points/);
      assert.match(e.message, /2,000 series × 3,001 steps/);
      assert.match(e.message, /6,002,000 points/);
    }
    assert.ok(Date.now() - started < 10_000, `refusing took ${Date.now() - started} ms`);

    // 2,000 series × 101 steps = 202,000 points: within the bound, streamed. Three at once: heavy queries run two at a
    // time, so each answer is either complete and right, or 429 with Retry-After.
    const big = `/api/v1/query_range?metric=${METRIC}&start=${startS}&end=${endS}&step=30s&agg=max`;
    // Points are the multiples of 30 s in [start, end], each over the 30 s up to and including it.
    const buckets = new Set(times.map((t) => Math.ceil(t / 30_000) * 30_000).filter((p) => p >= startS * 1000 && p <= endS * 1000)).size;
    const bigAnswers = await Promise.all([0, 1, 2].map(() => ctx.http("GET", big)));
    let complete = 0;
    for (const r of bigAnswers) {
      if (r.status === 429) {
        assert.equal(errorOf(r).code, "VGL_ERR_BUSY");
        assert.ok(Number(r.headers.get("retry-after")) >= 1, "429 without Retry-After");
        continue;
      }
      assert.equal(r.status, 200, r.text.slice(0, 300));
      const body = r.json as RangeBody;
      assert.equal(body.series.length, SERIES);
      const seen = new Set(body.series.map((s) => s.labels.i));
      assert.equal(seen.size, SERIES, "each series once");
      for (const s of body.series) {
        assert.equal(s.labels.host, HOST);
        assert.equal(s.points.length, buckets, `points of series ${s.labels.i}`);
      }
      complete++;
    }
    assert.ok(complete >= 1, "no big query was answered");

    // The listing endpoints are bounded too, with `limit` and `truncated`.
    const list = await ctx.http("GET", `/api/v1/series?metric=${METRIC}&limit=100`);
    assert.equal(list.status, 200, list.text.slice(0, 300));
    const l = list.json as { series: unknown[]; truncated: boolean };
    assert.equal(l.series.length, 100);
    assert.equal(l.truncated, true);
    const all = await ctx.http("GET", `/api/v1/series?metric=${METRIC}&limit=10000`);
    assert.equal((all.json as { series: unknown[]; truncated: boolean }).series.length, SERIES);
    assert.equal((all.json as { truncated: boolean }).truncated, false);
    const tooMany = await ctx.http("GET", `/api/v1/series?limit=1000000`);
    assert.equal(tooMany.status, 400);
    assert.match(errorOf(tooMany).message, /^limit: /);
    const hosts = await ctx.http("GET", "/api/v1/hosts?limit=1");
    assert.equal(hosts.status, 200, hosts.text.slice(0, 300));
    assert.equal((hosts.json as { hosts: unknown[] }).hosts.length, 1);
    assert.equal((hosts.json as { truncated: boolean }).truncated, true);
  },
};
