// Item 5: one agent's poison batch (NUL bytes, oversized or too many labels, seq ≥ 2^63, a series declared twice, …)
// must be refused at the edge as INVALID_ARGUMENT naming the field and the batch seq, store nothing, and never
// disturb other streams: a well-behaved raw host and the real agent keep getting acks throughout.
import assert from "node:assert/strict";
import type { HostileItem } from "../harness.js";
import { assertRefused, batch, grpc, helloMsg, metric, startBystander, storedSeries, streamEnd, welcomedStream, isAck, type BatchInit } from "../ingest-streams.js";

const TOKEN = "h5-fleet";

type Poison = { name: string; batch: (now: number) => BatchInit; field: RegExp };

const labels = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`l${i}`, "v"]));

const POISON: Poison[] = [
  { name: "a NUL byte in a label value", batch: (now) => ({ seq: 11, timeMs: now, declare: [{ ref: 1, metric: "m.ok", labels: { dev: "sd\u0000a" } }], refs: [1], values: [1] }), field: /declare\[0\]\.labels.*control character/ },
  { name: "a 3 KB label value", batch: (now) => ({ seq: 12, timeMs: now, declare: [{ ref: 1, metric: "m.ok", labels: { dev: "x".repeat(3000) } }], refs: [1], values: [1] }), field: /declare\[0\]\.labels.*3000 bytes.*1024/ },
  { name: "1,000 labels on one series", batch: (now) => ({ seq: 13, timeMs: now, declare: [{ ref: 1, metric: "m.ok", labels: labels(1000) }], refs: [1], values: [1] }), field: /declare\[0\]\.labels: 1000 labels.*64/ },
  { name: "a NUL byte in a label name", batch: (now) => ({ seq: 14, timeMs: now, declare: [{ ref: 1, metric: "m.ok", labels: { "a\u0000": "v" } }], refs: [1], values: [1] }), field: /declare\[0\]\.labels.*label name.*control character/ },
  { name: "a 300-byte metric name", batch: (now) => ({ seq: 15, timeMs: now, declare: [{ ref: 1, metric: "m".repeat(300) }], refs: [1], values: [1] }), field: /declare\[0\]\.metric.*300 bytes.*200/ },
  { name: "a newline in a metric name", batch: (now) => ({ seq: 16, timeMs: now, declare: [{ ref: 1, metric: "m\nx" }], refs: [1], values: [1] }), field: /declare\[0\]\.metric.*control character/ },
  { name: "seq ≥ 2^63", batch: (now) => ({ seq: 2n ** 63n, timeMs: now, declare: [{ ref: 1, metric: "m.ok" }], refs: [1], values: [1] }), field: /seq 9223372036854775808: seq: /s },
  { name: "one ref declared twice in a batch", batch: (now) => ({ seq: 17, timeMs: now, declare: [{ ref: 1, metric: "m.a" }, { ref: 1, metric: "m.b" }], refs: [1], values: [1] }), field: /declare\[1\]\.ref: ref 1 is declared twice/ },
  { name: "one series declared under two refs and used by both", batch: (now) => ({ seq: 18, timeMs: now, declare: [{ ref: 1, metric: "m.same" }, { ref: 2, metric: "m.same" }], refs: [1, 2], values: [1, 2] }), field: /declare\[1\].*same series as ref 1/ },
  { name: "a ref used twice in one batch", batch: (now) => ({ seq: 19, timeMs: now, declare: [{ ref: 1, metric: "m.ok" }], refs: [1, 1], values: [1, 2] }), field: /refs\[1\]: ref 1 appears twice/ },
  { name: "a check result with a 5 KB name", batch: (now) => ({ seq: 20, timeMs: now, declare: [{ ref: 1, metric: "m.ok" }], refs: [1], values: [1], checks: [{ name: "c".repeat(5000), timeMs: now }] }), field: /checks\[0\]\.name.*5000 bytes/ },
  { name: "a check result stamped in year 300,000", batch: (now) => ({ seq: 21, timeMs: now, declare: [{ ref: 1, metric: "m.ok" }], refs: [1], values: [1], checks: [{ name: "web", timeMs: 9e15 }] }), field: /checks\[0\]\.time_ms/ },
  { name: "a check result lasting NaN seconds", batch: (now) => ({ seq: 22, timeMs: now, declare: [{ ref: 1, metric: "m.ok" }], refs: [1], values: [1], checks: [{ name: "web", durationSeconds: Number.NaN, timeMs: now }] }), field: /checks\[0\]\.duration_seconds/ },
  { name: "100,001 points in one batch", batch: (now) => ({ seq: 23, timeMs: now, declare: [{ ref: 1, metric: "m.ok" }], refs: new Array<number>(100_001).fill(1), values: new Array<number>(100_001).fill(1) }), field: /refs: 100001 points.*100000/ },
];

export const item: HostileItem = {
  title: "5. poison batches are refused at the edge naming the field; other streams keep getting acks; nothing of them is stored",
  tokens: [{ name: TOKEN, anyHost: true }],
  async run(ctx) {
    const token = ctx.tokens[TOKEN]!;
    const bystander = await startBystander(ctx, token, "h5-good");
    const refusedBefore = await metric(ctx, "vigil_ingest_refusals_total");
    let acked = 0;
    try {
      for (const [i, p] of POISON.entries()) {
        const host = `h5-bad-${i}`;
        const end = await streamEnd(ctx, token, [helloMsg(host), batch(p.batch(Date.now()))]);
        assertRefused(end, grpc.status.INVALID_ARGUMENT, new RegExp(`^batch seq \\d+: .*`, "s"));
        assert.match(end.details, p.field, p.name);
        assert.equal(end.received.filter((m) => m.msg.case === "ack").length, 0, `${p.name}: never acked`);
        assert.deepEqual(await storedSeries(ctx, host), [], `${p.name}: none of its series were stored`);
      }

      // Re-declaring a ref as another series on a later batch is refused too; the first batch stays.
      const { s, close } = await welcomedStream(ctx, token, helloMsg("h5-redeclare"));
      try {
        s.send(batch({ seq: 1, timeMs: Date.now(), declare: [{ ref: 1, metric: "m.first" }], refs: [1], values: [1] }));
        await s.next(isAck(1), "Ack 1");
        s.send(batch({ seq: 2, timeMs: Date.now(), declare: [{ ref: 1, metric: "m.second" }], refs: [1], values: [2] }));
        assertRefused(await s.end(), grpc.status.INVALID_ARGUMENT, /^batch seq 2: declare\[0\]\.ref: ref 1 is already declared on this stream as another series/);
      } finally {
        close();
      }
      const kept = (await storedSeries(ctx, "h5-redeclare")) as { metric: string }[];
      assert.deepEqual(kept.map((x) => x.metric), ["m.first"]);
    } finally {
      acked = await bystander.stop();
    }
    assert.ok(acked >= 3, `the bystander sent ${acked} batches`);
    const refused = (await metric(ctx, "vigil_ingest_refusals_total")) - refusedBefore;
    assert.equal(refused, POISON.length + 1, "every refusal is counted on /metrics");
    assert.ok((await metric(ctx, "vigil_ingest_refusals_total", { reason: "label_value" })) >= 1, "counted by reason");
    assert.equal(await metric(ctx, "vigil_storage_failed_commits_total"), 0, "no commit failed");
  },
};
