import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { BatchSchema, CheckStatus, HelloSchema, SeriesDeclSchema, type Batch } from "@vigil/proto";
import { CollectorError, CollectorErrors } from "../src/errors.js";
import { decideIdentity } from "../src/ingest/identity.js";
import { IngestRefusal } from "../src/ingest/refusal.js";
import { SeriesShapes } from "../src/ingest/series-shapes.js";
import { StreamSeriesTable } from "../src/ingest/stream-series.js";
import { textProblem } from "../src/ingest/text-fields.js";
import { validateBatch } from "../src/ingest/validate.js";
import { validateHello } from "../src/ingest/validate-hello.js";

const NOW = Date.UTC(2026, 10, 23, 10, 0, 0);
const LIMITS = { maxPastAgeMs: 15 * 86_400_000, maxFutureSkewMs: 300_000 };

type BatchInit = MessageInitShape<typeof BatchSchema>;

function batch(init: BatchInit): Batch {
  return create(BatchSchema, { seq: 7n, timeMs: BigInt(NOW), ...init });
}

/** Runs `f` and returns the IngestRefusal it throws (failing if it throws anything else or nothing). */
function refusal(f: () => unknown): IngestRefusal {
  try {
    f();
  } catch (err) {
    if (err instanceof IngestRefusal) return err;
    throw err;
  }
  assert.fail("not refused");
}

describe("text fields", () => {
  test("empty, too long in UTF-8 bytes, control characters", () => {
    assert.equal(textProblem("", 10), "must not be empty");
    assert.equal(textProblem("", 10, true), undefined);
    assert.equal(textProblem("ok", 10), undefined);
    assert.equal(textProblem("é".repeat(6), 10), "is 12 bytes (limit 10)"); // 6 characters, 12 bytes
    assert.match(textProblem("a\u0000b", 10)!, /U\+0000/);
    assert.match(textProblem("a\u007fb", 10)!, /U\+007F/);
    assert.match(textProblem("a\u0085b", 10)!, /U\+0085/);
    assert.equal(textProblem("naïve ✓ 日本", 100), undefined);
  });
});

describe("batch validation", () => {
  test("a good batch passes and yields its check runs", () => {
    const b = batch({
      declare: [{ ref: 1, metric: "system.cpu.utilization", labels: { cpu: "0", state: "user" } }],
      refs: [1],
      values: [0.5],
      checks: [{ name: "web", kind: "http", status: CheckStatus.DEGRADED, durationSeconds: 0.2, message: "slow\nline\u0000two", timeMs: BigInt(NOW - 1000) }],
    });
    const runs = validateBatch(b, LIMITS);
    assert.deepEqual(runs, [{ name: "web", kind: "http", status: 1, durationSeconds: 0.2, message: "slow line two", timeMs: NOW - 1000 }]);
  });

  const cases: [string, BatchInit, string, RegExp][] = [
    ["seq past 2^53", { seq: 2n ** 53n }, "seq", /^batch seq 9007199254740992: seq: /],
    ["a non-positive time", { timeMs: 0n }, "time", /time_ms must be positive/],
    ["too many points", { refs: new Array<number>(100_001).fill(1), values: new Array<number>(100_001).fill(1) }, "points", /refs: 100001 points/],
    ["an empty metric", { declare: [{ ref: 1, metric: "", labels: {} }] }, "metric", /declare\[0\]\.metric: must not be empty/],
    ["a long metric", { declare: [{ ref: 1, metric: "m".repeat(201), labels: {} }] }, "metric", /declare\[0\]\.metric: is 201 bytes \(limit 200\)/],
    ["65 labels", { declare: [{ ref: 1, metric: "m", labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, ""])) }] }, "label_count", /65 labels \(limit 64\)/],
    ["an empty label name", { declare: [{ ref: 1, metric: "m", labels: { "": "v" } }] }, "label_name", /label name "" must not be empty/],
    ["a long label value", { declare: [{ ref: 1, metric: "m", labels: { k: "v".repeat(1025) } }] }, "label_value", /declare\[0\]\.labels\["k"\]: value is 1025 bytes/],
    ["labels too big together", { declare: [{ ref: 1, metric: "m", labels: { a: "v".repeat(1000), b: "v".repeat(1000) } }] }, "series_size", /take 2002 bytes \(limit 1536\)/],
    ["a ref declared twice", { declare: [{ ref: 1, metric: "a", labels: {} }, { ref: 1, metric: "b", labels: {} }] }, "ref", /declare\[1\]\.ref: ref 1 is declared twice/],
    ["one series under two refs", { declare: [{ ref: 1, metric: "a", labels: { x: "1" } }, { ref: 2, metric: "a", labels: { x: "1" } }] }, "ref", /declare\[1\]: the same series as ref 1/],
    ["a check without a name", { checks: [{ name: "", kind: "tcp", status: CheckStatus.HEALTHY, durationSeconds: 0, message: "", timeMs: BigInt(NOW) }] }, "check", /checks\[0\]\.name: must not be empty/],
    ["a check without a status", { checks: [{ name: "c", kind: "tcp", status: CheckStatus.UNSPECIFIED, durationSeconds: 0, message: "", timeMs: BigInt(NOW) }] }, "check", /checks\[0\]\.status/],
    ["a negative duration", { checks: [{ name: "c", kind: "tcp", status: CheckStatus.HEALTHY, durationSeconds: -1, message: "", timeMs: BigInt(NOW) }] }, "check", /checks\[0\]\.duration_seconds/],
    ["a check far from its batch", { checks: [{ name: "c", kind: "tcp", status: CheckStatus.HEALTHY, durationSeconds: 0, message: "", timeMs: BigInt(NOW + 3_600_000) }] }, "check", /checks\[0\]\.time_ms/],
  ];
  for (const [what, init, reason, message] of cases) {
    test(`refuses ${what}, naming the field`, () => {
      const r = refusal(() => validateBatch(batch({ declare: [], refs: [], values: [], ...init }), LIMITS));
      assert.equal(r.reason, reason);
      assert.equal(r.code, CollectorErrors.INVALID_FIELD);
      assert.match(r.message, message);
    });
  }

  test("refs and values of different lengths stay a protocol error with its exact message", () => {
    assert.throws(
      () => validateBatch(batch({ refs: [1, 2], values: [1] }), LIMITS),
      (e: unknown) => e instanceof CollectorError && e.code === CollectorErrors.PROTOCOL && e.message === "batch seq 7: 2 refs but 1 values",
    );
  });
});

describe("Hello validation", () => {
  const hello = (init: object) => create(HelloSchema, { agentId: "id", hostname: "web-1", agentVersion: "1", intervalMs: 1000, ...init });
  test("a good Hello passes; empty agent id and interval take defaults", () => {
    assert.deepEqual(validateHello(hello({ agentId: "", intervalMs: 0, bootTimeMs: BigInt(NOW - 1000) }), NOW), { hostname: "web-1", agentId: "web-1", intervalMs: 10_000, bootTimeMs: NOW - 1000 });
  });
  for (const [what, init, message] of [
    ["an empty hostname", { hostname: "" }, /^Hello\.hostname: must not be empty/],
    ["a hostname with a slash", { hostname: "a/b" }, /^Hello\.hostname: "a\/b" is not a host name/],
    ["a 254-byte hostname", { hostname: "h".repeat(254) }, /^Hello\.hostname: is 254 bytes \(limit 253\)/],
    ["a control character in the OS", { os: "Linux\u0007" }, /^Hello\.os: contains a control character/],
    ["a long kernel", { kernel: "k".repeat(257) }, /^Hello\.kernel: is 257 bytes/],
    ["a 0.5 s interval", { intervalMs: 500 }, /^Hello\.interval_ms: /],
    ["a negative boot time", { bootTimeMs: -1n }, /^Hello\.boot_time_ms: /],
    ["a long host label", { labels: { env: "x".repeat(2000) } }, /^Hello\.labels\["env"\]: value is 2000 bytes/],
  ] as const) {
    test(`refuses ${what}`, () => {
      const r = refusal(() => validateHello(hello(init), NOW));
      assert.equal(r.reason, "hello");
      assert.match(r.message, message);
    });
  }
});

describe("agent identity", () => {
  const owner = { agentId: "a", tokenBound: false, lastSeenMs: NOW - 5000, intervalMs: 1000 };
  const claim = (agentId: string, anyHost: boolean) => ({ hostname: "web-1", agentId, anyHost });
  test("the owning agent id is admitted, with either kind of token", () => {
    assert.deepEqual(decideIdentity(claim("a", true), owner, NOW, false), { ok: true, takeover: false });
    assert.deepEqual(decideIdentity(claim("a", false), { ...owner, tokenBound: true }, NOW, false), { ok: true, takeover: false });
  });
  test("a fleet token may never write as a host with its own token", () => {
    const d = decideIdentity(claim("a", true), { ...owner, tokenBound: true }, NOW, true);
    assert.equal(d.ok, false);
    assert.equal(!d.ok && d.reason, "host_token");
  });
  test("another agent id is refused while the host is live (3 intervals, at least 30 s)", () => {
    const d = decideIdentity(claim("b", false), owner, NOW, false);
    assert.ok(!d.ok && d.reason === "agent_id" && /live under agent id "a", not "b"/.test(d.message));
    assert.equal(decideIdentity(claim("b", false), { ...owner, lastSeenMs: NOW - 29_000 }, NOW, false).ok, false);
    assert.equal(decideIdentity(claim("b", false), { ...owner, intervalMs: 60_000, lastSeenMs: NOW - 170_000 }, NOW, false).ok, false);
  });
  test("a silent host moves to a new agent id only with its own token; allow_agent_id_change lifts the rule", () => {
    const silent = { ...owner, lastSeenMs: NOW - 31_000 };
    assert.deepEqual(decideIdentity(claim("b", false), silent, NOW, false), { ok: true, takeover: true });
    assert.equal(decideIdentity(claim("b", true), silent, NOW, false).ok, false);
    assert.deepEqual(decideIdentity(claim("b", true), owner, NOW, true), { ok: true, takeover: true });
  });
});

describe("a stream's series table", () => {
  const decl = (ref: number, metric: string, labels: Record<string, string> = {}) => create(SeriesDeclSchema, { ref, metric, labels });
  test("re-declaring a ref identically is harmless, differently refused; the stream bound holds", () => {
    const t = new StreamSeriesTable(2, new SeriesShapes());
    const b1 = batch({ declare: [decl(1, "a", { x: "1" })], refs: [1], values: [1] });
    const fresh = t.newDeclarations(b1);
    t.checkRefs(b1, fresh);
    t.bind(fresh, [101]);
    assert.deepEqual(t.points(b1).series.map((s) => s.id), [101]);
    assert.deepEqual(t.newDeclarations(batch({ declare: [decl(1, "a", { x: "1" })] })), []);
    assert.match(refusal(() => t.newDeclarations(batch({ declare: [decl(1, "b")] }))).message, /ref 1 is already declared on this stream as another series/);
    const over = refusal(() => t.newDeclarations(batch({ declare: [decl(2, "b"), decl(3, "c")] })));
    assert.equal(over.reason, "series_per_stream");
    assert.equal(over.code, CollectorErrors.INGEST_LIMIT);
    assert.match(over.message, /would have 3 series \(limit ingest\.max_series_per_stream = 2\)/);
  });
  test("undeclared refs are a protocol error; a ref or a series twice in a batch is refused", () => {
    const t = new StreamSeriesTable(10, new SeriesShapes());
    const b1 = batch({ declare: [decl(1, "a"), decl(2, "b")], refs: [1, 2], values: [1, 2] });
    t.bind(t.newDeclarations(b1), [1, 2]);
    assert.throws(() => t.checkRefs(batch({ refs: [3], values: [1] }), []), (e: unknown) => e instanceof CollectorError && e.code === CollectorErrors.PROTOCOL);
    assert.match(refusal(() => t.checkRefs(batch({ refs: [2, 1, 2], values: [1, 2, 3] }), [])).message, /refs\[2\]: ref 2 appears twice/);
    // Ref 3 declared later as the series ref 1 already is: both resolve to one id, and a batch using both is refused.
    const b2 = batch({ declare: [decl(3, "a")], refs: [1, 3], values: [1, 2] });
    const fresh = t.newDeclarations(b2);
    t.checkRefs(b2, fresh);
    t.bind(fresh, [1]);
    assert.match(refusal(() => t.points(b2)).message, /refs\[1\]: ref 3 is the same series as ref 1/);
    // NaN and ±Inf are dropped and counted.
    const p = t.points(batch({ refs: [1, 2], values: [Number.NaN, 5] }));
    assert.deepEqual([p.values, p.nonFinite], [[5], 1]);
  });
  test("streams share one copy of each series shape (metric and labels), up to the bound", () => {
    // Room for the two shapes of the first stream (each costs 4 bytes a key character + 160), not for a third.
    const shapes = new SeriesShapes(2 * (4 * "cpu\u0000state\u0000user".length + 160) + 10);
    const declared = (t: StreamSeriesTable, decls: ReturnType<typeof decl>[], ids: number[]) => {
      const b = batch({ declare: decls, refs: decls.map((d) => d.ref), values: decls.map(() => 1) });
      t.bind(t.newDeclarations(b), ids);
      return t.points(b).series;
    };
    const [a1, a2] = declared(new StreamSeriesTable(10, shapes), [decl(1, "cpu", { state: "user" }), decl(2, "mem")], [11, 12]);
    const [b1, b2] = declared(new StreamSeriesTable(10, shapes), [decl(7, "cpu", { state: "user" }), decl(8, "mem")], [21, 22]);
    assert.deepEqual([a1!.id, b1!.id], [11, 21], "each stream keeps its own series ids");
    assert.equal(a1!.labels, b1!.labels, "one labels object for both streams");
    assert.equal(a2!.labels, b2!.labels);
    assert.ok(Object.isFrozen(a1!.labels), "a shared shape cannot be changed by one stream");
    // Past the bound a new shape is used but not kept.
    const [c1] = declared(new StreamSeriesTable(10, shapes), [decl(1, "disk", { dev: "sda" })], [31]);
    assert.deepEqual([c1!.metric, c1!.labels], ["disk", { dev: "sda" }]);
    assert.equal(shapes.size, 2);
  });
});
