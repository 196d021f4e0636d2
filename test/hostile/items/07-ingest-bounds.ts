// Item 7: streams that never say Hello are closed; Hello fields are bounded; series per stream and per host are
// bounded; points older than the horizon are refused (acked as rejected) instead of making a partition per past day.
import assert from "node:assert/strict";
import type { HostileItem } from "../harness.js";
import { assertRefused, batch, grpc, helloMsg, ingestClient, isAck, metric, openStream, seriesCount, storedSeries, streamEnd, welcomedStream, type StreamEnd } from "../ingest-streams.js";

const TOKEN = "h7-fleet";
const DAY = 86_400_000;
// Lower limits than the defaults (10,000 and 50,000), so the test declares fewer series; still far above what the real
// agent declares (a few hundred series on a small host, about 1,000 on a 64-core one).
const PER_STREAM = 5000;
const PER_HOST = 6000;
const PER_STEP = 3000;

const declare = (from: number, n: number, metric = "test.h7") =>
  Array.from({ length: n }, (_, i) => ({ ref: i + 1, metric, labels: { i: String(from + i) } }));

export const item: HostileItem = {
  title: "7. idle streams are closed, Hello fields and series counts are bounded, points past the horizon are refused",
  tokens: [{ name: TOKEN, anyHost: true }],
  config: { ingest: { hello_timeout: "2s", max_series_per_stream: PER_STREAM, max_series_per_host: PER_HOST } },
  async run(ctx) {
    const token = ctx.tokens[TOKEN]!;

    // 200 streams that never say Hello (with a valid token) are all closed within the timeout.
    const timeoutsBefore = await metric(ctx, "vigil_ingest_hello_timeouts_total");
    const streamsBefore = await metric(ctx, "vigil_ingest_streams");
    const client = ingestClient(ctx);
    const t0 = Date.now();
    const idle = Array.from({ length: 200 }, () => openStream(client, token));
    try {
      const ends: StreamEnd[] = await Promise.all(idle.map((s) => s.end(8000)));
      assert.ok(Date.now() - t0 < 6000, `closed after ${Date.now() - t0} ms`);
      for (const e of ends) assertRefused(e, grpc.status.DEADLINE_EXCEEDED, /no Hello within 2s.*ingest\.hello_timeout/);
    } finally {
      for (const s of idle) s.close();
      client.close();
    }
    assert.equal((await metric(ctx, "vigil_ingest_hello_timeouts_total")) - timeoutsBefore, 200);
    assert.equal(await metric(ctx, "vigil_ingest_streams"), streamsBefore, "every idle stream's handler finished");

    // Hello fields are bounded; each refusal names the field.
    const badHellos: [string, ReturnType<typeof helloMsg>, RegExp][] = [
      ["a hostname with a space", helloMsg("bad host"), /^Hello\.hostname: /],
      ["a hostname with a NUL", helloMsg("bad\u0000host"), /^Hello\.hostname: /],
      ["a 300-byte hostname", helloMsg("h".repeat(300)), /^Hello\.hostname: .*300 bytes.*253/],
      ["a 10 KB agent version", helloMsg("h7-ver", { agentVersion: "v".repeat(10_000) }), /^Hello\.agent_version: .*10000 bytes/],
      ["a 10 KB agent id", helloMsg("h7-id", { agentId: "i".repeat(10_000) }), /^Hello\.agent_id: /],
      ["100 host labels", helloMsg("h7-labels", { labels: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, "v"])) }), /^Hello\.labels: 100 labels/],
      ["a NUL in a host label", helloMsg("h7-label-nul", { labels: { env: "a\u0000" } }), /^Hello\.labels.*control character/],
      ["an interval of 5 days", helloMsg("h7-interval", { intervalMs: 5 * DAY }), /^Hello\.interval_ms: /],
      ["4 billion CPUs", helloMsg("h7-cpus", { cpuCount: 4_000_000_000 }), /^Hello\.cpu_count: /],
      ["a boot time in year 300,000", helloMsg("h7-boot", { bootTimeMs: 9_000_000_000_000_000n }), /^Hello\.boot_time_ms: /],
    ];
    for (const [what, hello, field] of badHellos) {
      const end = await streamEnd(ctx, token, [hello]);
      assert.ok(!end.received.some((m) => m.msg.case === "welcome"), `${what}: not welcomed`);
      assertRefused(end, grpc.status.INVALID_ARGUMENT, field);
    }

    // Series per stream: one stream declaring more than the bound is refused and none of it is stored.
    const over = await streamEnd(ctx, token, [
      helloMsg("h7-series"),
      batch({ seq: 1, timeMs: Date.now(), declare: declare(0, PER_STREAM + 1), refs: [1], values: [1] }),
    ]);
    assertRefused(over, grpc.status.INVALID_ARGUMENT, new RegExp(`^batch seq 1: declare: .*${PER_STREAM + 1} series.*ingest\\.max_series_per_stream = ${PER_STREAM}`));
    assert.deepEqual(await storedSeries(ctx, "h7-series"), []);

    // Series per host: streams one after another, each within the stream bound, stop at the host bound.
    let refusedAt = -1;
    for (let k = 0; k < 3; k++) {
      const { s, close } = await welcomedStream(ctx, token, helloMsg("h7-series"));
      try {
        s.send(batch({ seq: k + 1, timeMs: Date.now(), declare: declare(k * PER_STEP, PER_STEP), refs: [1], values: [1] }));
        const r = await Promise.race([s.next(isAck(k + 1), `Ack ${k + 1}`).then(() => "acked" as const), s.end()]);
        if (r !== "acked") {
          assertRefused(r, grpc.status.INVALID_ARGUMENT, new RegExp(`^batch seq ${k + 1}: declare: .*ingest\\.max_series_per_host = ${PER_HOST}`));
          refusedAt = k;
          break;
        }
      } finally {
        close();
      }
    }
    assert.equal(refusedAt, 2, `the third stream of ${PER_STEP} new series passes the host's bound`);
    assert.equal(await seriesCount(ctx, "h7-series"), 2 * PER_STEP);

    // Points older than the horizon (default 15 days) are acked as rejected, counted, and make no partition.
    const pastBefore = await metric(ctx, "vigil_ingest_batches_rejected_past_total");
    const { s, close } = await welcomedStream(ctx, token, helloMsg("h7-past"));
    const old = Date.now() - 20 * DAY;
    try {
      for (let d = 0; d < 5; d++) s.send(batch({ seq: d + 1, timeMs: old - d * DAY, declare: d === 0 ? [{ ref: 1, metric: "test.past" }] : [], refs: [1], values: [d] }));
      for (let d = 0; d < 5; d++) {
        const a = await s.next(isAck(d + 1), `Ack ${d + 1}`);
        assert.match(a.msg.case === "ack" ? a.msg.value.rejected : "", /older than .*ingest\.max_past_age/);
      }
      // Within the horizon is still accepted.
      s.send(batch({ seq: 10, timeMs: Date.now() - 2 * DAY, refs: [1], values: [10] }));
      const ok = await s.next(isAck(10), "Ack 10");
      assert.equal(ok.msg.case === "ack" && ok.msg.value.rejected, "");
    } finally {
      close();
    }
    assert.equal((await metric(ctx, "vigil_ingest_batches_rejected_past_total")) - pastBefore, 5);
    if (ctx.pg) {
      const day = new Date(old).toISOString().slice(0, 10).replaceAll("-", "");
      const r = await ctx.pg.query("SELECT to_regclass($1)::text AS t", [`samples_${day}`]);
      assert.equal(r.rows[0].t, null, "no partition for a refused past day");
    }
    const r = await ctx.http("GET", `/api/v1/query_range?metric=test.past&host=h7-past&start=${(old - 5 * DAY) / 1000}&end=${(old + DAY) / 1000}&step=1h`);
    assert.deepEqual((r.json as { series: { points: unknown[] }[] }).series.flatMap((x) => x.points), [], "nothing stored from past the horizon");
  },
};
