// Item 6: a stream claiming a host's name must not write as it. A fleet (--any-host) token claiming the real agent's
// host (which has its own token) or a fleet host live under another agent id is refused (PERMISSION_DENIED, logged
// with both ids, counted); and a point that differs from the stored one at the same (series, time) is counted.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { HostileItem } from "../harness.js";
import { assertRefused, batch, grpc, helloMsg, isAck, metric, streamEnd, welcomedStream } from "../ingest-streams.js";

const TOKEN = "h6-fleet";

/** The agent id the real agent sends (agent/src/host-facts.ts): this machine's id. */
function realAgentId(): string {
  try {
    return readFileSync("/etc/machine-id", "utf8").trim() || hostname();
  } catch {
    return hostname();
  }
}

export const item: HostileItem = {
  title: "6. a fleet token cannot write as a host another agent owns; conflicting points are counted",
  tokens: [{ name: TOKEN, anyHost: true }],
  async run(ctx) {
    const token = ctx.tokens[TOKEN]!;
    const refusedBefore = await metric(ctx, "vigil_ingest_identity_refusals_total");
    const before = await ctx.http("GET", `/api/v1/query_range?metric=system.uptime&host=${ctx.agentHost}&start=-30s&step=1s&agg=last`);

    // The real agent's host was created through its own token: a fleet token may not claim it, whatever agent id it sends.
    for (const agentId of ["forger", realAgentId()]) {
      const future = Date.now() + 60_000;
      const end = await streamEnd(ctx, token, [
        helloMsg(ctx.agentHost, { agentId }),
        batch({ seq: 1, timeMs: future, declare: [{ ref: 1, metric: "system.uptime" }], refs: [1], values: [-1] }),
      ]);
      assertRefused(end, grpc.status.PERMISSION_DENIED, new RegExp(`${ctx.agentHost}.*own token`));
      assert.ok(!end.received.some((m) => m.msg.case === "welcome"), "never welcomed");
    }
    const log = await ctx.collector.waitForLog((l) => l.msg === "agent identity refused" && l.host === ctx.agentHost && l.agentId === "forger", 5000);
    assert.equal(typeof log.ownerAgentId, "string", "the log names the owner's agent id too");

    // A fleet host live under one agent id cannot be taken by another agent id with the same fleet token.
    const a = await welcomedStream(ctx, token, helloMsg("h6-fleet-host", { agentId: "agent-a" }));
    try {
      const t0 = Date.now() - 5000;
      a.s.send(batch({ seq: 1, timeMs: t0, declare: [{ ref: 1, metric: "test.h6" }], refs: [1], values: [1] }));
      await a.s.next(isAck(1), "Ack 1");
      const b = await streamEnd(ctx, token, [helloMsg("h6-fleet-host", { agentId: "agent-b" })]);
      assertRefused(b, grpc.status.PERMISSION_DENIED, /h6-fleet-host.*agent-a|agent id/);
      const logB = await ctx.collector.waitForLog((l) => l.msg === "agent identity refused" && l.host === "h6-fleet-host", 5000);
      assert.equal(logB.agentId, "agent-b");
      assert.equal(logB.ownerAgentId, "agent-a");

      // The same (series, time) again: an identical replay is not a conflict, a different value is (and is counted).
      const conflictsBefore = await metric(ctx, "vigil_storage_point_conflicts_total");
      a.s.send(batch({ seq: 2, timeMs: t0, refs: [1], values: [1] }));
      await a.s.next(isAck(2), "Ack 2");
      assert.equal(await metric(ctx, "vigil_storage_point_conflicts_total"), conflictsBefore, "an identical replay is not a conflict");
      a.s.send(batch({ seq: 3, timeMs: t0, refs: [1], values: [2] }));
      await a.s.next(isAck(3), "Ack 3");
      assert.equal(await metric(ctx, "vigil_storage_point_conflicts_total"), conflictsBefore + 1, "a differing point is counted");
      await ctx.collector.waitForLog((l) => l.msg === "conflicting points" && l.host === "h6-fleet-host", 5000);
      const r = await ctx.http("GET", `/api/v1/query_range?metric=test.h6&host=h6-fleet-host&start=${(t0 - 1000) / 1000}&end=${(t0 + 1000) / 1000}&step=1s&agg=last`);
      const points = (r.json as { series: { points: [number, number][] }[] }).series[0]?.points ?? [];
      assert.deepEqual(points.map((p) => p[1]), [1], "the first stored point is kept");
    } finally {
      a.close();
    }
    assert.ok((await metric(ctx, "vigil_ingest_identity_refusals_total")) - refusedBefore >= 3, "every refusal is counted");

    // The real agent's data is untouched: nothing from the future, no -1.
    const after = await ctx.http("GET", `/api/v1/query_range?metric=system.uptime&host=${ctx.agentHost}&start=-60s&end=${(Date.now() + 120_000) / 1000}&step=1s&agg=min`);
    const pts = (after.json as { series: { points: [number, number][] }[] }).series[0]?.points ?? [];
    assert.ok(pts.length > 0 && before.status === 200);
    assert.ok(pts.every(([t, v]) => v >= 0 && t <= Date.now() + 1000), "no forged point among the agent's");
  },
};
