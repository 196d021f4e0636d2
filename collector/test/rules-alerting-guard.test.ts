// The alerting runtime against hostile storage: bad stored rows are skipped and counted, never crash start or
// evaluation; manual actions are stored before they are answered, and undone when the store refuses them.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "@vigil/shared";
import pino from "pino";
import { Alerting } from "../src/rules/alerting.js";
import { DEFAULT_RULE_NAMES } from "../src/rules/defaults.js";
import type { AlertRepository, StoredSilence } from "../src/rules/ports.js";
import type { AlertEvent } from "../src/rules/types.js";
import { CollectorError, CollectorErrors } from "../src/errors.js";

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const log = pino({ level: "silent" });

class FakeRepo implements AlertRepository {
  saved: AlertEvent[] = [];
  failNext = false;
  open: { id: string; instance: unknown }[] = [];
  stored: StoredSilence[] = [];
  rules: { name: string; spec: unknown }[] = [];
  async loadOpen() {
    return this.open;
  }
  async save(events: readonly AlertEvent[]) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error("store refuses");
    }
    this.saved.push(...events);
  }
  async silences() {
    return this.stored;
  }
  async apiRules() {
    return this.rules;
  }
  async claimFence() {}
  async claimHost(host: string) {
    return { lease: `host:${host}`, value: 1 };
  }
  async hostsLastSeen() {
    return [];
  }
}

const silence = (id: string, matchers: unknown): StoredSilence => ({ id, matchers, startsAt: T0 - 1000, endsAt: T0 + 3_600_000, comment: "", createdBy: "t" });
const highRule = { name: "high", kind: "threshold", metric: "m", critical: { op: ">", value: 1 } };

async function started(repo: FakeRepo) {
  const clock = new ManualClock(T0);
  const alerting = new Alerting({ repo, clock, log, tickMs: 3_600_000 });
  const report = await alerting.start([]);
  return { clock, alerting, report };
}

function fire(alerting: Alerting, clock: ManualClock, value = 5): string {
  alerting.observe("web-1", 1000, [{ host: "web-1", metric: "m", labels: {}, timeMs: clock.now(), value }], []);
  const a = alerting.openInstances().find((i) => i.ruleName === "high");
  assert.ok(a, "alert open");
  return a.id;
}

describe("alerting with bad stored rows", () => {
  test("bad silences, API rules and open alerts are skipped and counted; start and evaluation go on", async () => {
    const repo = new FakeRepo();
    repo.stored = [silence("s-regex", { host: "~((" }), silence("s-array", [1, 2]), silence("s-type", { host: 5 }), silence("s-null", null), silence("s-ok", { alertname: "high" })];
    repo.rules = [
      { name: "high", spec: highRule },
      { name: "bad-regex", spec: { ...highRule, name: "bad-regex", match: { host: "~((" } } },
      { name: "not-a-rule", spec: "hello" },
      { name: "renamed", spec: { ...highRule, name: "other" } },
    ];
    repo.open = [
      { id: "i-garbage", instance: { id: "i-garbage", state: "firing" } },
      { id: "i-null", instance: null },
      { id: "i-labels", instance: { ruleName: "high", labels: "x" } },
    ];
    const { alerting, clock, report } = await started(repo);
    assert.equal(report.rules, DEFAULT_RULE_NAMES.length + 1, "the defaults and the valid API rule");
    assert.equal(report.errors.length, 3);
    assert.deepEqual(alerting.stats.skippedRows, { silences: 4, alert_rules: 3, alerts: 3 });
    const id = fire(alerting, clock);
    await alerting.flushed();
    assert.deepEqual(alerting.openInstances().find((i) => i.id === id)!.silencedBy, ["s-ok"], "the valid silence applies, the bad ones never run");
    assert.equal(alerting.stats.evaluationErrors, 0);
    await alerting.stop();
  });

  test("a silence read later with a broken pattern is skipped at refresh; evaluation goes on", async () => {
    const repo = new FakeRepo();
    repo.rules = [{ name: "high", spec: highRule }];
    const { alerting, clock } = await started(repo);
    fire(alerting, clock);
    repo.stored = [silence("s-bad", { host: "~a(" })];
    await alerting.refreshSilences();
    alerting.observe("web-1", 1000, [{ host: "web-1", metric: "m", labels: {}, timeMs: clock.now() + 1000, value: 6 }], []);
    assert.equal(alerting.stats.skippedRows.silences, 1);
    assert.equal(alerting.stats.evaluationErrors, 0);
    await alerting.stop();
  });
});

describe("manual actions are stored before they are answered", () => {
  test("an acknowledgement the store refuses is an error and leaves the alert unacknowledged", async () => {
    const repo = new FakeRepo();
    repo.rules = [{ name: "high", spec: highRule }];
    const { alerting, clock } = await started(repo);
    const id = fire(alerting, clock);
    await alerting.flushed();
    repo.failNext = true;
    await assert.rejects(alerting.acknowledge(id, "alice", "x"), (err: unknown) => err instanceof CollectorError && err.code === CollectorErrors.STORAGE_UNAVAILABLE);
    assert.equal(alerting.openInstances()[0]!.acknowledged, null, "undone in memory");
    assert.equal(alerting.stats.storeFailures, 1);
    await alerting.acknowledge(id, "alice", "x");
    assert.equal(alerting.openInstances()[0]!.acknowledged?.by, "alice");
    const acks = () => repo.saved.filter((e) => e.kind === "acknowledged").length;
    assert.equal(acks(), 1);
    await alerting.acknowledge(id, "bob", "again");
    assert.equal(acks(), 1, "a repeated ack is no new event");
    assert.equal(alerting.openInstances()[0]!.acknowledged?.by, "alice");

    repo.failNext = true;
    await assert.rejects(alerting.unacknowledge(id, "carol"), CollectorError);
    assert.equal(alerting.openInstances()[0]!.acknowledged?.by, "alice", "unack undone in memory");
    await alerting.stop();
  });

  test("a manual resolve the store refuses leaves the alert firing", async () => {
    const repo = new FakeRepo();
    repo.rules = [{ name: "high", spec: highRule }];
    const { alerting, clock } = await started(repo);
    const id = fire(alerting, clock);
    await alerting.flushed();
    repo.failNext = true;
    await assert.rejects(alerting.resolve(id, "alice"), CollectorError);
    const still = alerting.openInstances().find((i) => i.id === id);
    assert.equal(still?.state, "firing", "reinstated");
    // Evaluation continues on the same instance (no second alert for the same series).
    alerting.observe("web-1", 1000, [{ host: "web-1", metric: "m", labels: {}, timeMs: clock.now() + 1000, value: 7 }], []);
    assert.deepEqual(alerting.openInstances().map((i) => i.id), [id]);
    await alerting.resolve(id, "alice");
    assert.equal(alerting.openInstances().length, 0);
    await alerting.stop();
  });
});
