import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger, systemClock } from "@vigil/shared";
import { CheckScheduler, checkSamples } from "../src/checks/scheduler.js";
import type { Check, CheckResult } from "../src/checks/types.js";

const log = createLogger("test", "silent");
const check = (name: string, intervalMs: number, timeoutMs: number, run: Check["run"], degradedAfterMs?: number): Check => ({
  common: { name, kind: "test", intervalMs, timeoutMs, degradedAfterMs },
  run,
});

test("a hung check is reported unhealthy at its timeout and aborted; the other check keeps its schedule", async () => {
  const results: CheckResult[] = [];
  let abortedWith: unknown;
  const hung = check("hung", 10_000, 300, (signal) => new Promise(() => signal.addEventListener("abort", () => (abortedWith = signal.reason))));
  let fastRuns = 0;
  const fast = check("fast", 200, 100, async () => {
    fastRuns++;
    return { status: "healthy", message: "ok", metrics: [{ metric: "vigil.check.test.thing", value: 7 }] };
  });
  const s = new CheckScheduler({ checks: [hung, fast], clock: systemClock, log, onResult: (r) => results.push(r) });
  s.start();
  await new Promise((r) => setTimeout(r, 2500));
  s.stop();
  const h = results.filter((r) => r.name === "hung");
  assert.equal(h.length, 1, "one hung run finished (by timeout)");
  assert.equal(h[0]!.status, "unhealthy");
  assert.equal(h[0]!.message, "timed out after 300 ms");
  assert.ok(abortedWith instanceof Error, "the check's signal was aborted");
  assert.ok(fastRuns >= 8, `the fast check ran on schedule meanwhile (${fastRuns} runs)`);
});

test("errors become unhealthy results; slow successes become degraded past degraded_after", async () => {
  const s = new CheckScheduler({ checks: [], clock: systemClock, log, onResult: () => {} });
  const failing = await s.runOnce(check("f", 1000, 500, async () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:1"))));
  assert.deepEqual([failing.status, failing.message], ["unhealthy", "connect ECONNREFUSED 127.0.0.1:1"]);
  const slow = await s.runOnce(check("s", 1000, 500, async () => new Promise((r) => setTimeout(() => r({ status: "healthy", message: "ok" }), 60)), 20));
  assert.equal(slow.status, "degraded");
  assert.match(slow.message, /^ok \(slow: \d+ ms ≥ 20 ms\)$/);
});

test("each result yields status and duration series labelled with check and kind, plus its own metrics", () => {
  const samples = checkSamples({ name: "db", kind: "postgres", status: "unhealthy", durationMs: 1500, message: "x", timeMs: 1, metrics: [{ metric: "vigil.check.postgres.connections", value: 3 }] });
  assert.deepEqual(samples, [
    { metric: "vigil.check.status", labels: { check: "db", kind: "postgres" }, value: 2 },
    { metric: "vigil.check.duration", labels: { check: "db", kind: "postgres" }, value: 1.5 },
    { metric: "vigil.check.postgres.connections", labels: { check: "db", kind: "postgres" }, value: 3 },
  ]);
});
