// Rule dry runs: the same transitions as live evaluation, bounded (range, samples, events: LIMIT_EXCEEDED naming the
// bound) and yielding to the event loop while they replay.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CollectorError, CollectorErrors } from "../src/errors.js";
import { DRY_RUN_LIMITS, dryRun, validateForDryRun } from "../src/rules/dry-run.js";
import type { Rule, SamplePoint } from "../src/rules/types.js";

const T0 = Date.UTC(2026, 10, 23, 0, 0, 0);
const H = 3_600_000;

function rule(level = 0.9): Rule {
  const v = validateForDryRun({ name: "dry", kind: "threshold", metric: "m", critical: { op: ">", value: level } });
  assert.ok("rule" in v);
  return v.rule;
}

/** `n` samples of two series every `everyMs` from T0, in pages of 1000; above 0.9 for 10 samples out of each 100. */
async function* history(n: number, everyMs: number): AsyncGenerator<SamplePoint[]> {
  let page: SamplePoint[] = [];
  for (let i = 0; i < n; i++) {
    page.push({ host: `h${i % 2}`, metric: "m", labels: {}, timeMs: T0 + Math.floor(i / 2) * everyMs, value: i % 200 < 20 ? 1 : 0 });
    if (page.length === 1000) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

const limitError = (re: RegExp) => (err: unknown) => err instanceof CollectorError && err.code === CollectorErrors.LIMIT_EXCEEDED && re.test(err.message);

describe("rule dry runs", () => {
  test("replays fire and resolve per series", async () => {
    const events = await dryRun(rule(), history(400, 10_000), T0, T0 + 2000 * 1000);
    assert.deepEqual(events.filter((e) => e.labels.host === "h0").map((e) => e.kind), ["firing", "resolved", "firing", "resolved"]);
  });

  test("a range over the limit is refused naming start and the limit", async () => {
    await assert.rejects(dryRun(rule(), history(0, 1000), T0, T0 + 8 * 24 * H), limitError(/^start: a dry run covers at most 7d/));
  });

  test("more samples than the limit: refused, naming the limit", async () => {
    await assert.rejects(dryRun(rule(), history(5000, 1000), T0, T0 + 2 * H, { ...DRY_RUN_LIMITS, maxSamples: 3000 }), limitError(/at most 3000 samples/));
  });

  test("more events than the limit: refused, naming the limit", async () => {
    await assert.rejects(dryRun(rule(), history(20_000, 1000), T0, T0 + 3 * H, { ...DRY_RUN_LIMITS, maxEvents: 10 }), limitError(/more than 10 events/));
  });

  test("the event loop keeps turning during a long replay (7 days of ticks, 200k samples)", async () => {
    let turns = 0;
    let worstGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      worstGap = Math.max(worstGap, now - last);
      last = now;
      turns++;
    }, 5);
    try {
      await dryRun(rule(5), history(200_000, 3000), T0, T0 + 7 * 24 * H - 1);
    } finally {
      clearInterval(timer);
    }
    assert.ok(turns > 5, `timer ran ${turns} times`);
    assert.ok(worstGap < 250, `the loop was blocked for ${worstGap.toFixed(0)} ms`);
  });
});
