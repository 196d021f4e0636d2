// Item 4: a rule dry run over a long range blocked the event loop for 24–34 s. The range and the work are bounded
// (422 naming the limit), the replay yields to the event loop, and only a few dry runs run at once (429).
import assert from "node:assert/strict";
import type { HostileItem } from "../harness.js";
import { errorOf, whileProbingHealthz } from "../alerting-helpers.js";

const HOST = "hostile-04-history";
const METRIC = "hostile.dryrun.gauge";
const rule = (metric: string) => ({ name: "hostile-04", kind: "threshold", metric, reduce: { fn: "avg", over: "1m" }, warning: { op: ">", value: 0.9 }, critical: { op: ">", value: 0.99 } });

export const item: HostileItem = {
  title: "4. rule dry runs over long ranges and many samples are bounded and never block the event loop",
  async run(ctx) {
    const tooLong = await ctx.http("POST", "/api/v1/rules/dry-run", { rule: rule("system.uptime"), start: "-30d", end: "now" });
    assert.equal(tooLong.status, 422, tooLong.text);
    const e = errorOf(tooLong);
    assert.equal(e.code, "VGL_ERR_LIMIT_EXCEEDED");
    assert.match(e.message, /^start: .*7d/);

    const onAgent = await ctx.http("POST", "/api/v1/rules/dry-run", { rule: rule("system.cpu.utilization"), start: "-7d" });
    assert.equal(onAgent.status, 200, onAgent.text);

    if (!ctx.pg) return;
    // 150k stored samples over the last 10 hours: 20 series of a synthetic host, one point every 4.8 s.
    const h = await ctx.pg.query<{ id: number }>(
      `INSERT INTO hosts (name, agent_id, labels, agent_version, os, kernel, cpu_count, interval_ms) VALUES ($1, 'hostile-04', '{}', '0', 'linux', '0', 1, 1000) RETURNING id`,
      [HOST],
    );
    const hostId = h.rows[0]!.id;
    try {
      await ctx.pg.query(
        `INSERT INTO series (host_id, metric, labels) SELECT $1, $2, jsonb_build_object('n', g::text) FROM generate_series(1, 20) g`,
        [hostId, METRIC],
      );
      await ctx.pg.query(
        `INSERT INTO samples (time, series_id, value)
         SELECT now() - interval '10 hours' + (i * interval '4.8 seconds'), s.id, (sin(i / 400.0) + 1) / 2
         FROM series s, generate_series(0, 7499) i WHERE s.metric = $1`,
        [METRIC],
      );
      const { result, worstMs } = await whileProbingHealthz(ctx, () =>
        Promise.all([0, 1, 2, 3].map(() => ctx.http("POST", "/api/v1/rules/dry-run", { rule: rule(METRIC), start: "-7d" }))),
      );
      assert.ok(worstMs < 1000, `/healthz took ${worstMs} ms during dry runs`);
      const statuses = result.map((r) => r.status);
      assert.ok(statuses.includes(200), `statuses ${statuses.join(",")}: ${result.map((r) => r.text.slice(0, 200)).join("\n")}`);
      const busy = result.filter((r) => r.status === 429);
      assert.ok(busy.length >= 1, `four at once: some refused as busy (${statuses.join(",")})`);
      for (const r of busy) assert.equal(errorOf(r).code, "VGL_ERR_BUSY");
      const ok = result.find((r) => r.status === 200)!;
      const events = (ok.json as { events: { kind: string }[] }).events;
      assert.ok(events.some((x) => x.kind === "firing"), "the replay found the synthetic peaks");
    } finally {
      await ctx.pg.query(`DELETE FROM samples WHERE series_id IN (SELECT id FROM series WHERE host_id = $1)`, [hostId]);
      await ctx.pg.query(`DELETE FROM series WHERE host_id = $1`, [hostId]);
      await ctx.pg.query(`DELETE FROM hosts WHERE id = $1`, [hostId]);
    }
  },
};
