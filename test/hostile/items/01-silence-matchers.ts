// Item 1: a silence with a broken regex was stored (201) and crashed the collector at the next tick, and again after
// every restart. Silences are validated like rules (400 naming the field), and bad rows that reach the database some
// other way are skipped, logged with their id and counted, while evaluation goes on.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { HostileContext, HostileItem } from "../harness.js";
import { firingAlert, putRule, deleteRule, errorOf, skippedRows } from "../alerting-helpers.js";

const RULE = "hostile-01-uptime";

async function refused(ctx: HostileContext, body: unknown, field: string): Promise<void> {
  const r = await ctx.http("POST", "/api/v1/silences", body);
  assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 120)}: ${r.status} ${r.text.slice(0, 300)}`);
  const e = errorOf(r);
  assert.equal(e.code, "VGL_ERR_BAD_PARAM");
  assert.ok(e.message.startsWith(`${field}:`), `message names ${field}: ${e.message}`);
}

export const item: HostileItem = {
  title: "1. silences with broken matchers, and bad stored silence and rule rows, never crash the collector",
  async run(ctx) {
    await putRule(ctx, RULE, { kind: "threshold", metric: "system.uptime", critical: { op: ">", value: 0 } });
    const alert = await firingAlert(ctx, RULE);

    // The request from the issue, then every other bound of a silence.
    await refused(ctx, { matchers: { host: "~((" }, duration: "1h" }, "matchers.host");
    await refused(ctx, { matchers: { host: "!~a(" }, duration: "1h" }, "matchers.host");
    await refused(ctx, { matchers: { host: "~" + "a".repeat(2000) }, duration: "1h" }, "matchers.host");
    await refused(ctx, { matchers: { "bad name": "x" }, duration: "1h" }, "matchers");
    await refused(ctx, { matchers: { ["a".repeat(200)]: "x" }, duration: "1h" }, "matchers");
    await refused(ctx, { matchers: { host: "a\u0000b" }, duration: "1h" }, "matchers.host");
    await refused(ctx, { matchers: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`l${i}`, "x"])), duration: "1h" }, "matchers");
    await refused(ctx, { matchers: { host: "x" }, duration: "1h", comment: "a\u0000b" }, "comment");
    await refused(ctx, { matchers: { host: "x" }, duration: "1h", comment: "c".repeat(5000) }, "comment");
    await refused(ctx, { matchers: { host: "x" }, duration: "1h", createdBy: "b".repeat(500) }, "createdBy");
    await refused(ctx, { matchers: { host: "x" }, duration: "999999999h" }, "duration");
    await refused(ctx, { matchers: { host: "x" }, endsAt: "2999-01-01T00:00:00Z" }, "endsAt");
    await refused(ctx, { matchers: { host: "x" }, startsAt: "1971-01-01T00:00:00Z", duration: "1h" }, "startsAt");

    // Bad rows written behind the API's back (another version, a manual fix gone wrong): skipped, logged, counted.
    const badIds = [randomUUID(), randomUUID(), randomUUID()];
    if (ctx.pg) {
      const rows: [string, string][] = [
        [badIds[0]!, JSON.stringify({ host: "~((" })],
        [badIds[1]!, JSON.stringify([1, 2])],
        [badIds[2]!, JSON.stringify({ host: 5 })],
      ];
      for (const [id, m] of rows) {
        await ctx.pg.query(`INSERT INTO silences (id, matchers, starts_at, ends_at) VALUES ($1, $2::jsonb, now(), now() + interval '1 hour')`, [id, m]);
      }
      await ctx.pg.query(`INSERT INTO alert_rules (name, spec) VALUES ('hostile-01-bad', $1::jsonb)`, [
        JSON.stringify({ name: "hostile-01-bad", kind: "threshold", metric: "system.uptime", match: { host: "~((" }, critical: { op: ">", value: 0 } }),
      ]);
    }
    // A valid silence: the collector re-reads every silence (and the bad rows with them).
    const ok = await ctx.http("POST", "/api/v1/silences", { matchers: { alertname: RULE, host: "~hostile-.*" }, duration: "10m", comment: "hostile 1", createdBy: "suite" });
    assert.equal(ok.status, 201, ok.text);
    const silenceId = (ok.json as { id: string }).id;
    // A rule change: the collector re-reads every API rule (and the bad row).
    await putRule(ctx, RULE, { kind: "threshold", metric: "system.uptime", critical: { op: ">", value: 0 }, labels: { item: "1" } });
    if (ctx.pg) {
      for (const id of badIds) await ctx.collector.waitForLog((l) => l.msg === "invalid stored silence skipped" && l.id === id, 10_000);
      assert.equal(await skippedRows(ctx, "silences"), 3);
      assert.equal(await skippedRows(ctx, "alert_rules"), 1);
    }
    // Several ticks later the collector is alive, the alert is silenced by the valid silence only, and still evaluated.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(ctx.collector.child.exitCode, null, "the collector exited");
    const now = await firingAlert(ctx, RULE);
    assert.equal(now.id, alert.id);
    assert.deepEqual(now.silencedBy, [silenceId]);

    if (ctx.pg) {
      await ctx.pg.query(`DELETE FROM silences WHERE id = ANY($1::uuid[])`, [badIds]);
      await ctx.pg.query(`DELETE FROM alert_rules WHERE name = 'hostile-01-bad'`);
    }
    assert.equal((await ctx.http("DELETE", `/api/v1/silences/${silenceId}`)).status, 200);
    await deleteRule(ctx, RULE);
    if (ctx.pg) {
      assert.equal(await skippedRows(ctx, "silences"), 0);
      assert.equal(await skippedRows(ctx, "alert_rules"), 0);
    }
  },
};
