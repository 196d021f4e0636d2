// The range query endpoint bounds its work before reading a sample (422 naming the limit and the figures), runs heavy
// queries a few at a time (429 with Retry-After), streams its answer, passes label matchers to storage in the shared
// syntax, and refuses absurd times and steps naming the parameter.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { CollectorError, CollectorErrors } from "../src/errors.js";
import type { RangeSeries } from "../src/api/ports.js";
import { DEFAULT_LIMITS, fakeSeries, NOW, testApi, type TestApi } from "./support/fake-api.js";

type Answer = { status: number; body: string; headers: Record<string, unknown> };
const nowS = NOW / 1000;

async function get(api: TestApi, url: string): Promise<Answer> {
  const r = await api.app.inject({ method: "GET", url });
  return { status: r.statusCode, body: r.body, headers: r.headers };
}

function errorOf(a: Answer): { code: string; message: string } {
  return (JSON.parse(a.body) as { error: { code: string; message: string } }).error;
}

describe("query_range bounds", () => {
  let api: TestApi;
  before(async () => {
    api = await testApi({ ...DEFAULT_LIMITS, maxSeries: 3000, maxSamples: 10_000_000 });
    api.reader.series = fakeSeries(2000);
  });
  after(() => api.app.close());

  test("2,000 series × 3,001 steps is refused before any sample is read, with the figures and the limit", async () => {
    const a = await get(api, `/api/v1/query_range?metric=m&start=${nowS - 3000}&end=${nowS}&step=1s`);
    assert.equal(a.status, 422, a.body);
    const e = errorOf(a);
    assert.equal(e.code, "VGL_ERR_LIMIT_EXCEEDED");
    assert.equal(
      e.message,
      "the answer would hold up to 6,002,000 points (2,000 series × 3,001 steps), over the limit of 500,000 points (api.max_points): narrow the range or the matchers, or use a longer step",
    );
    assert.equal(api.reader.reads.length, 0, "no samples read");
  });

  test("more steps per series than 11,000 is refused before storage is asked", async () => {
    const before = api.reader.selectors.length;
    const a = await get(api, `/api/v1/query_range?metric=m&start=-7d&step=1s`);
    assert.equal(a.status, 422);
    assert.match(errorOf(a).message, /^step: 604,801 steps per series, over the limit of 11,000: use a step of at least 55s$/);
    assert.equal(api.reader.selectors.length, before);
  });

  test("too many series, too many candidates, too many samples", async () => {
    const small = await testApi({ ...DEFAULT_LIMITS, maxSeries: 100, maxSamples: 100_000 });
    try {
      small.reader.series = fakeSeries(2000, "m", (i) => ({ host: "h1", i: String(i), even: String(i % 2 === 0) }));
      const series = await get(small, `/api/v1/query_range?metric=m&match[even]=true&start=-1m&step=1m`);
      assert.equal(series.status, 422);
      assert.match(errorOf(series).message, /^more than 100 series match, over the limit of 100 series \(api\.max_series\)/);
      const candidates = await get(small, `/api/v1/query_range?metric=m&match[i]=~1.&start=-1m&step=1m`);
      assert.equal(candidates.status, 422);
      assert.match(errorOf(candidates).message, /^m has more than 1,000 series to test against the matchers \(10 × api\.max_series\)/);
      // 5 series (0, 2, 4, 6, 8) of one sample every 10 s over 30 days.
      const samples = await get(small, `/api/v1/query_range?metric=m&match[even]=true&match[i]=~[0-9]&start=-30d&step=1h`);
      assert.equal(samples.status, 422);
      assert.match(errorOf(samples).message, /^the query would read about 1,296,005 stored samples, over the limit of 100,000 \(api\.max_samples\)/);
      assert.equal(small.reader.reads.length, 0);
    } finally {
      await small.app.close();
    }
  });

  test("the query gets a deadline of now + the timeout, and a timeout in storage answers 503", async () => {
    api.reader.read = () =>
      (async function* (): AsyncGenerator<RangeSeries> {
        throw new CollectorError(CollectorErrors.QUERY_TIMEOUT, "the query ran past its time limit");
      })();
    try {
      const a = await get(api, `/api/v1/query_range?metric=m&match[i]=1&start=-1h`);
      assert.equal(a.status, 503);
      assert.equal(errorOf(a).code, "VGL_ERR_QUERY_TIMEOUT");
      assert.equal(api.reader.selectors.at(-1)!.deadlineMs, NOW + DEFAULT_LIMITS.timeoutMs);
      assert.equal(api.reader.reads.at(-1)!.deadlineMs, NOW + DEFAULT_LIMITS.timeoutMs);
    } finally {
      api.reader.read = null;
    }
  });
});

describe("query_range parameters", () => {
  let api: TestApi;
  before(async () => {
    api = await testApi();
    api.reader.series = fakeSeries(4, "m", (i) => ({ host: `h${i % 2}`, state: ["user", "system", "idle", "user"][i]! }));
  });
  after(() => api.app.close());

  const labelsOf = async (qs: string) => {
    const a = await get(api, `/api/v1/query_range?metric=m&start=-1m&${qs}`);
    assert.equal(a.status, 200, a.body);
    return (JSON.parse(a.body) as { series: { labels: Record<string, string> }[] }).series.map((s) => `${s.labels.host}/${s.labels.state}`);
  };

  test("matchers in the shared syntax; exact ones are passed down as a pre-filter", async () => {
    assert.deepEqual(await labelsOf("match[state]=user"), ["h0/user", "h1/user"]);
    assert.deepEqual(api.reader.selectors.at(-1)!.exact, { state: "user" });
    assert.deepEqual(await labelsOf("match[state]=~u.*|sys.*"), ["h0/user", "h1/system", "h1/user"]);
    assert.deepEqual(api.reader.selectors.at(-1)!.exact, {});
    assert.deepEqual(await labelsOf("match[state]=!~u.*"), ["h1/system", "h0/idle"]);
    assert.deepEqual(await labelsOf("match[state]=!user&host=h0"), ["h0/idle"]);
    assert.equal(api.reader.selectors.at(-1)!.host, "h0");
    assert.deepEqual(await labelsOf("match[host]=h1&match[state]=%3Duser"), ["h1/user"]);
    assert.deepEqual(api.reader.selectors.at(-1)!.exact, { host: "h1", state: "user" });
    assert.deepEqual(await labelsOf("match[cpu]=&match[state]=idle"), ["h0/idle"]);
    assert.deepEqual(await labelsOf("match[cpu]=!"), []);
  });

  for (const [qs, param, message] of [
    ["match[]=x", "match[]", /expected match\[LABEL\]=PATTERN/],
    ["match=x", "match", /expected match\[LABEL\]=PATTERN/],
    ["match[a=x", "match[a", /expected match\[LABEL\]=PATTERN/],
    ["match[a][b]=x", "match[a][b]", /expected match\[LABEL\]=PATTERN/],
    ["match[a]=x&match[a]=y", "match[a]", /must be given once/],
    ["match[a]=~((", "match[a]", /invalid regular expression/],
    [`match[a]=~${"x".repeat(1100)}`, "match[a]", /longer than 1024 characters/],
    ["metric=a&metric=b", "metric", /must be given once/],
    ["start=-99999999999999d", "start", /between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z/],
    [`start=-${"9".repeat(400)}s`, "start", /between 1970/],
    ["end=99999999999999999", "end", /between 1970/],
    ["start=0000-01-01T00:00:00Z", "start", /between 1970/],
    ["start=1e3", "start", /expected unix seconds/],
    ["step=99999999999999", "step", /must not be longer than the range \(1h\)/],
    ["step=0.5", "step", /must be at least 1s/],
    ["step=NaNs", "step", /expected a duration/],
    ["start=now&end=-1h", "start", /must not be after end/],
    ["agg=median", "agg", /expected one of avg, min, max, last, sum/],
  ] as const) {
    test(`${qs.slice(0, 40)}: 400 naming ${param}`, async () => {
      const a = await get(api, `/api/v1/query_range?${qs.startsWith("metric=") ? "" : "metric=m&"}${qs}`);
      assert.equal(a.status, 400, a.body);
      const e = errorOf(a);
      assert.equal(e.code, "VGL_ERR_BAD_PARAM");
      assert.ok(e.message.startsWith(`${param}: `), e.message);
      assert.match(e.message, message);
    });
  }

  test("an instant query (start = end) takes a 1s step", async () => {
    const a = await get(api, `/api/v1/query_range?metric=m&start=${nowS}&end=${nowS}&step=1s`);
    assert.equal(a.status, 200, a.body);
  });
});

describe("query_range answers", () => {
  let api: TestApi;
  let url: string;
  before(async () => {
    api = await testApi({ ...DEFAULT_LIMITS, maxHeavyQueries: 1 });
    api.reader.series = [...fakeSeries(300, "heavy"), ...fakeSeries(2, "light").map((s) => ({ ...s, id: s.id + 1000 }))];
    await api.app.listen({ host: "127.0.0.1", port: 0 });
    url = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  });
  after(() => api.app.close());

  test("the answer streams series by series and parses whole", async () => {
    const r = await fetch(`${url}/api/v1/query_range?metric=heavy&start=-1m&step=1s`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("transfer-encoding"), "chunked");
    const body = (await r.json()) as { series: { metric: string; labels: Record<string, string>; points: [number, number][] }[] };
    assert.equal(body.series.length, 300);
    assert.deepEqual(body.series[7], { metric: "heavy", labels: { host: "h1", i: "7" }, points: [[NOW - 60_000, 8]] });
  });

  test("heavy queries beyond api.max_heavy_queries get 429 with Retry-After; light ones still run", async () => {
    let releaseFirst!: () => void;
    const held = new Promise<void>((r) => (releaseFirst = r));
    api.reader.read = (series) =>
      (async function* (): AsyncGenerator<RangeSeries> {
        for (const s of series) {
          if (s.metric === "heavy") await held;
          yield { metric: s.metric, labels: s.labels, pointsJson: "[]" };
        }
      })();
    try {
      // 300 series × 241 steps = 72,300 points: heavy.
      const first = fetch(`${url}/api/v1/query_range?metric=heavy&start=-4m&step=1s`);
      await new Promise((r) => setTimeout(r, 100));
      const second = await fetch(`${url}/api/v1/query_range?metric=heavy&start=-4m&step=1s`);
      assert.equal(second.status, 429);
      assert.equal(second.headers.get("retry-after"), "2");
      const e = ((await second.json()) as { error: { code: string; message: string } }).error;
      assert.equal(e.code, "VGL_ERR_BUSY");
      assert.match(e.message, /^1 heavy queries are running already \(api\.max_heavy_queries\)/);
      const light = await fetch(`${url}/api/v1/query_range?metric=light&start=-4m&step=1s`);
      assert.equal(light.status, 200);
      releaseFirst();
      assert.equal((await first).status, 200);
      await (await first).text();
      const third = await fetch(`${url}/api/v1/query_range?metric=heavy&start=-4m&step=1s`);
      assert.equal(third.status, 200, "the slot is free again");
      await third.text();
    } finally {
      api.reader.read = null;
    }
  });

  test("a failure after the answer began cuts the connection (no truncated body passes for whole) and logs no stack", async () => {
    api.reader.read = (series) =>
      (async function* (): AsyncGenerator<RangeSeries> {
        yield { metric: series[0]!.metric, labels: series[0]!.labels, pointsJson: "[]" };
        throw new CollectorError(CollectorErrors.QUERY_TIMEOUT, "the query ran past its time limit");
      })();
    const before = api.logs.length;
    try {
      // The status may be on its way or not yet: either way the client sees a failure, never a short body.
      const outcome = await fetch(`${url}/api/v1/query_range?metric=heavy&start=-1m&step=1s`).then(
        (r) => r.text().then(() => "whole body", () => "cut"),
        () => "cut",
      );
      assert.equal(outcome, "cut");
      const lines = api.logs.slice(before);
      assert.equal(lines.length, 1);
      assert.equal(lines[0]!.msg, "range answer cut short after it began");
      assert.equal(lines[0]!.code, "VGL_ERR_QUERY_TIMEOUT");
      assert.equal(lines[0]!.err, undefined);
    } finally {
      api.reader.read = null;
    }
  });
});

describe("listing endpoints", () => {
  let api: TestApi;
  before(async () => {
    api = await testApi();
    api.reader.series = fakeSeries(30);
  });
  after(() => api.app.close());

  test("/api/v1/series takes a limit and says when it truncated", async () => {
    const some = JSON.parse((await get(api, "/api/v1/series?metric=m&limit=10")).body) as { series: unknown[]; truncated: boolean };
    assert.equal(some.series.length, 10);
    assert.equal(some.truncated, true);
    const all = JSON.parse((await get(api, "/api/v1/series?metric=m")).body) as { series: unknown[]; truncated: boolean };
    assert.equal(all.series.length, 30);
    assert.equal(all.truncated, false);
    for (const bad of ["0", "10001", "x", "1.5", "-1"]) {
      const a = await get(api, `/api/v1/series?limit=${bad}`);
      assert.equal(a.status, 400, bad);
      assert.match(errorOf(a).message, /^limit: expected a whole number from 1 to 10000/);
    }
  });
});
