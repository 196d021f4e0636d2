// Item 13: query_range read `match[k]=~re` as an exact match and ignored `match[]=x`. Every documented matcher form
// now selects the right series (checked against the real agent's system.cpu.utilization), malformed or repeated
// matcher parameters answer 400 naming the parameter, and a catastrophic pattern answers at once (RE2 semantics).
import assert from "node:assert/strict";
import type { HostileContext, HostileItem, HttpAnswer } from "../harness.js";
import { seedSeries } from "../seed-series.js";

const METRIC = "system.cpu.utilization";
const EVIL_HOST = "hostile-regex";

type Series = { labels: Record<string, string> }[];

function seriesOf(r: HttpAnswer, what: string): Series {
  assert.equal(r.status, 200, `${what}: ${r.text.slice(0, 300)}`);
  return (r.json as { series: Series }).series;
}

const key = (l: Record<string, string>) => JSON.stringify(Object.entries(l).sort());

export const item: HostileItem = {
  title: "13. query_range label matchers: every documented form, malformed ones refused, catastrophic regex fast",
  tokens: [{ name: EVIL_HOST }],
  async run(ctx: HostileContext) {
    const base = `/api/v1/query_range?metric=${METRIC}&host=${ctx.agentHost}&start=-2m&step=10s`;
    const q = async (match: string, what = match) => seriesOf(await ctx.http("GET", `${base}&${match}`), what);

    const all = await q("agg=avg", "no matcher");
    const users = all.filter((s) => s.labels.state === "user");
    const total = all.filter((s) => s.labels.cpu === undefined);
    assert.ok(users.length >= 2, "the agent reports user time for the host and each core");
    assert.ok(total.length >= 1 && total.length < all.length, "a whole-host series and per-core ones");

    const same = (got: Series, want: Series, what: string) =>
      assert.deepEqual(got.map((s) => key(s.labels)).sort(), want.map((s) => key(s.labels)).sort(), what);
    same(await q("match[state]=user"), users, "exact");
    same(await q("match[state]=~us.*"), users, "regex");
    same(await q("match[state]=~us"), [], "regex is anchored");
    same(await q("match[state]=%3Duser"), users, "=text");
    same(await q("match[state]=!~us.*"), all.filter((s) => s.labels.state !== "user"), "negated regex");
    same(await q("match[state]=!user"), all.filter((s) => s.labels.state !== "user"), "negated value");
    same(await q("match[cpu]="), total, "absent label");
    same(await q("match[cpu]=!"), all.filter((s) => s.labels.cpu !== undefined), "present label");
    same(await q("match[cpu]=~.*&match[state]=~user|system"), all.filter((s) => ["user", "system"].includes(s.labels.state!)), "two matchers");
    same(await q(`match[host]=~${ctx.agentHost.slice(0, 4)}.*&match[state]=user`), users, "host as a label");

    const bad = async (qs: string, param: string) => {
      const r = await ctx.http("GET", `${base}&${qs}`);
      assert.equal(r.status, 400, `${qs}: ${r.text.slice(0, 300)}`);
      const e = (r.json as { error: { code: string; message: string } }).error;
      assert.equal(e.code, "VGL_ERR_BAD_PARAM", qs);
      assert.ok(e.message.startsWith(`${param}: `), `${qs}: ${e.message}`);
    };
    await bad("match[]=user", "match[]");
    await bad("match[state=user", "match[state");
    await bad("match[state]]=user", "match[state]]");
    await bad("match=user", "match");
    await bad("match[state]=~((", "match[state]");
    await bad(`match[state]=~${"a".repeat(2000)}`, "match[state]");
    await bad("match[state]=user&match[state]=idle", "match[state]");

    // A value that makes a backtracking engine explode on (a*)*b; RE2 semantics answer at once.
    const evil = `${"a".repeat(40)}c`;
    const now = Date.now();
    await seedSeries(ctx, { host: EVIL_HOST, metric: "hostile.regex", labels: [{ v: evil }, { v: "aab" }], times: [now - 20_000, now - 10_000] });
    const t0 = Date.now();
    const r = await ctx.http("GET", `/api/v1/query_range?metric=hostile.regex&start=-5m&step=10s&match[v]=~(a*)*b`);
    const took = Date.now() - t0;
    assert.deepEqual(seriesOf(r, "catastrophic regex").map((s) => s.labels.v), ["aab"]);
    assert.ok(took < 2000, `the catastrophic pattern took ${took} ms`);
  },
};
