// Item 2: a `~(.*)*x`-style matcher ran JavaScript's backtracking engine on every point and froze the collector
// (/healthz stalled 84 s, ingest stopped). Matchers run on RE2 (linear time): rules and silences with such patterns
// over the agent's own series and long label values cost nothing noticeable.
import assert from "node:assert/strict";
import type { HostileItem } from "../harness.js";
import { deleteRule, firingAlert, putRule, whileProbingHealthz } from "../alerting-helpers.js";

const NESTED = "~(.*)*(.*)*(.*)*(.*)*(.*)*x";
const FIB = "~(a|aa)*c";
const LONG = "a".repeat(60);

export const item: HostileItem = {
  title: "2. catastrophic-backtracking patterns in rules and silences neither freeze the collector nor stop ingest",
  async run(ctx) {
    const lastUptime = async (): Promise<number> => {
      const r = await ctx.http("GET", `/api/v1/query_range?metric=system.uptime&host=${ctx.agentHost}&start=-20s&step=1s&agg=last`);
      return (r.json as { series: { points: [number, number][] }[] }).series[0]?.points.at(-1)?.[0] ?? 0;
    };
    const { worstMs } = await whileProbingHealthz(ctx, async () => {
      // Read on every point of a metric with many series per batch (per core and state).
      await putRule(ctx, "hostile-02-cpu", {
        kind: "threshold",
        metric: "system.cpu.utilization",
        match: { host: NESTED, state: FIB, cpu: `!${FIB}` },
        critical: { op: ">", value: 2 },
      });
      // A firing alert with a long label, and a silence whose patterns are tried on it at every tick.
      await putRule(ctx, "hostile-02-uptime", { kind: "threshold", metric: "system.uptime", critical: { op: ">", value: 0 }, labels: { note: LONG } });
      await firingAlert(ctx, "hostile-02-uptime");
      const s = await ctx.http("POST", "/api/v1/silences", { matchers: { note: FIB, host: NESTED }, duration: "10m", comment: "hostile 2" });
      assert.equal(s.status, 201, s.text);
      const s2 = await ctx.http("POST", "/api/v1/silences", { matchers: { note: `~(a+)+${LONG}b` }, duration: "10m", comment: "hostile 2" });
      assert.equal(s2.status, 201, s2.text);
      const before = await lastUptime();
      await new Promise((r) => setTimeout(r, 4000));
      assert.ok((await lastUptime()) > before, "ingest continues");
      for (const id of [(s.json as { id: string }).id, (s2.json as { id: string }).id]) assert.equal((await ctx.http("DELETE", `/api/v1/silences/${id}`)).status, 200);
      await deleteRule(ctx, "hostile-02-cpu");
      await deleteRule(ctx, "hostile-02-uptime");
    });
    assert.ok(worstMs < 1000, `/healthz took ${worstMs} ms`);
  },
};
