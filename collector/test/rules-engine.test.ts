import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock, type Labels } from "@vigil/shared";
import { RuleEngine } from "../src/rules/engine.js";
import { defaultRules } from "../src/rules/defaults.js";
import { compileLabelMatchers } from "@vigil/shared/label-matchers";
import { parseRuleFile } from "../src/rules/rule-loader.js";
import type { AlertEvent, AlertInstance, Rule } from "../src/rules/types.js";

/** Silences match alert labels (which carry `host` themselves) with the shared matcher engine. */
const silenceMatches = (labels: Record<string, string>, m: Record<string, string>): boolean => compileLabelMatchers(m)(labels);

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const S = 1000;
const M = 60_000;

function rules(yaml: string): Rule[] {
  const r = parseRuleFile("test.yaml", yaml);
  assert.deepEqual(r.errors, []);
  return r.rules;
}

function setup(yaml: string, restore?: AlertInstance[], at = T0) {
  const clock = new ManualClock(at);
  let n = 0;
  const engine = new RuleEngine({ rules: rules(yaml), clock, restore, newId: () => `a${++n}` });
  return { clock, engine };
}

const kinds = (events: AlertEvent[]): string[] => events.map((e) => e.kind);

/** Sends one sample of `metric` stamped with the clock's time. */
function send(engine: RuleEngine, clock: ManualClock, value: number, labels: Labels = {}, host = "web-1", metric = "m"): AlertEvent[] {
  return engine.ingestSamples([{ host, metric, labels, timeMs: clock.now(), value }]);
}

const GT = (yaml: string) => `
rules:
  - name: high
    kind: threshold
    metric: m
${yaml}`;

describe("threshold state machine", () => {
  test("pending, then firing once `for` has passed", () => {
    const { clock, engine } = setup(GT(`    warning: { op: ">", value: 0.8 }\n    for: 5m`));
    const first = send(engine, clock, 0.9);
    assert.deepEqual(kinds(first), ["pending"]);
    assert.equal(first[0]!.instance.state, "pending");
    clock.advance(4 * M);
    assert.deepEqual(kinds(send(engine, clock, 0.9)), []);
    clock.advance(M);
    const fired = send(engine, clock, 0.95);
    assert.deepEqual(kinds(fired), ["firing"]);
    assert.equal(fired[0]!.alertId, first[0]!.alertId);
    assert.equal(fired[0]!.severity, "warning");
    assert.equal(fired[0]!.instance.firingSince, T0 + 5 * M);
    assert.equal(fired[0]!.labels.host, "web-1");
    assert.equal(fired[0]!.labels.alertname, "high");
  });

  test("a pending alert that clears before `for` ends resolves without ever firing", () => {
    const { clock, engine } = setup(GT(`    warning: { op: ">", value: 0.8 }\n    for: 5m`));
    send(engine, clock, 0.9);
    clock.advance(M);
    const ev = send(engine, clock, 0.5);
    assert.deepEqual(kinds(ev), ["resolved"]);
    assert.equal(ev[0]!.instance.firingSince, null);
    assert.equal(engine.instances().length, 0);
  });

  test("`for` deadline reached on a tick without new samples", () => {
    const { clock, engine } = setup(GT(`    warning: { op: ">", value: 0.8 }\n    for: 1m`));
    send(engine, clock, 0.9);
    clock.advance(59 * S);
    assert.deepEqual(kinds(engine.tick()), []);
    clock.advance(S);
    assert.deepEqual(kinds(engine.tick()), ["firing"]);
  });

  test("for: 0s fires on the first breaching sample", () => {
    const { clock, engine } = setup(GT(`    critical: { op: ">=", value: 10 }\n    for: 0s`));
    assert.deepEqual(kinds(send(engine, clock, 9.99)), []);
    clock.advance(S);
    const ev = send(engine, clock, 10);
    assert.deepEqual(kinds(ev), ["firing"]);
    assert.equal(ev[0]!.severity, "critical");
    assert.equal(engine.instances()[0]!.state, "firing");
  });

  test("hysteresis: values hovering around the line fire once and resolve only below clear", () => {
    const { clock, engine } = setup(GT(`    warning: { op: ">", value: 0.8, clear: 0.7 }`));
    const all: AlertEvent[] = [];
    for (const v of [0.81, 0.79, 0.82, 0.78, 0.75, 0.81, 0.72, 0.71]) {
      clock.advance(10 * S);
      all.push(...send(engine, clock, v));
    }
    assert.deepEqual(kinds(all), ["firing"]);
    clock.advance(10 * S);
    assert.deepEqual(kinds(send(engine, clock, 0.7)), ["resolved"]);
  });

  test("without clear the same values flap (what hysteresis prevents)", () => {
    const { clock, engine } = setup(GT(`    warning: { op: ">", value: 0.8 }`));
    const all: AlertEvent[] = [];
    for (const v of [0.81, 0.79, 0.82, 0.78]) {
      clock.advance(10 * S);
      all.push(...send(engine, clock, v));
    }
    assert.deepEqual(kinds(all), ["firing", "resolved", "firing", "resolved"]);
  });

  test("keep_firing_for keeps a cleared alert firing, and resolves when it expires", () => {
    const { clock, engine } = setup(GT(`    warning: { op: ">", value: 0.8 }\n    keep_firing_for: 2m`));
    const fired = send(engine, clock, 0.9);
    assert.deepEqual(kinds(fired), ["firing"]);
    clock.advance(30 * S);
    assert.deepEqual(kinds(send(engine, clock, 0.5)), []);
    assert.equal(engine.instances()[0]!.keepFiringUntil, T0 + 30 * S + 2 * M);
    clock.advance(M);
    assert.deepEqual(kinds(send(engine, clock, 0.85)), [], "back over the line: still the same firing alert");
    assert.equal(engine.instances()[0]!.keepFiringUntil, null);
    clock.advance(30 * S);
    assert.deepEqual(kinds(send(engine, clock, 0.5)), []);
    clock.advance(2 * M - S);
    assert.deepEqual(kinds(engine.tick()), []);
    clock.advance(S);
    const resolved = engine.tick();
    assert.deepEqual(kinds(resolved), ["resolved"]);
    assert.equal(resolved[0]!.alertId, fired[0]!.alertId);
  });

  test("severity rises and falls while firing", () => {
    const { clock, engine } = setup(GT(`    warning: { op: ">", value: 0.8 }\n    critical: { op: ">", value: 0.95 }`));
    const w = send(engine, clock, 0.85);
    assert.deepEqual(w.map((e) => [e.kind, e.severity]), [["firing", "warning"]]);
    clock.advance(10 * S);
    const up = send(engine, clock, 0.97);
    assert.deepEqual(up.map((e) => [e.kind, e.severity]), [["severity_changed", "critical"]]);
    assert.match(up[0]!.message, /rose from warning to critical/);
    clock.advance(10 * S);
    const down = send(engine, clock, 0.9);
    assert.deepEqual(down.map((e) => [e.kind, e.severity]), [["severity_changed", "warning"]]);
    assert.match(down[0]!.message, /fell from critical to warning/);
    clock.advance(10 * S);
    assert.deepEqual(kinds(send(engine, clock, 0.5)), ["resolved"]);
  });

  test("a rise waits for the critical level's own `for`; a fall is immediate", () => {
    const { clock, engine } = setup(GT(`    warning: { op: ">", value: 0.8 }\n    critical: { op: ">", value: 0.95 }\n    for: { warning: 0s, critical: 2m }`));
    assert.deepEqual(kinds(send(engine, clock, 0.97)), ["pending", "firing"]);
    assert.equal(engine.instances()[0]!.severity, "warning");
    clock.advance(M);
    assert.deepEqual(kinds(send(engine, clock, 0.97)), []);
    clock.advance(M);
    assert.deepEqual(kinds(engine.tick()).concat(engine.instances()[0]!.severity), ["severity_changed", "critical"]);
  });

  test("acknowledgement is cleared by a rise and kept on a fall", () => {
    const { clock, engine } = setup(GT(`    warning: { op: ">", value: 0.8 }\n    critical: { op: ">", value: 0.95 }`));
    const id = send(engine, clock, 0.85)[0]!.alertId;
    clock.advance(S);
    const ack = engine.acknowledge(id, { by: "alice", comment: "looking" });
    assert.deepEqual(kinds(ack), ["acknowledged"]);
    assert.deepEqual(engine.instance(id)!.acknowledged, { by: "alice", at: T0 + S, comment: "looking" });
    clock.advance(S);
    const rise = send(engine, clock, 0.99);
    assert.deepEqual(kinds(rise), ["severity_changed", "unacknowledged"]);
    assert.equal(engine.instance(id)!.acknowledged, null);
    engine.acknowledge(id, { by: "bob", comment: "" });
    clock.advance(S);
    assert.deepEqual(kinds(send(engine, clock, 0.85)), ["severity_changed"]);
    assert.equal(engine.instance(id)!.acknowledged?.by, "bob");
    assert.deepEqual(kinds(engine.unacknowledge(id, "bob")), ["unacknowledged"]);
    assert.equal(engine.instance(id)!.acknowledged, null);
  });

  test("silence flag: covered, then expired", () => {
    const { clock, engine } = setup(GT(`    warning: { op: ">", value: 0.8 }`));
    const fired = send(engine, clock, 0.9)[0]!;
    assert.ok(silenceMatches(fired.labels, { alertname: "high", host: "~web-.*" }));
    assert.ok(!silenceMatches(fired.labels, { alertname: "high", host: "db-1" }));
    const on = engine.setSilenced(fired.alertId, ["s1"]);
    assert.deepEqual(kinds(on), ["silenced"]);
    assert.deepEqual(engine.instance(fired.alertId)!.silencedBy, ["s1"]);
    assert.deepEqual(kinds(engine.setSilenced(fired.alertId, ["s1", "s2"])), []);
    const off = engine.setSilenced(fired.alertId, []);
    assert.deepEqual(kinds(off), ["unsilenced"]);
    assert.deepEqual(engine.instance(fired.alertId)!.silencedBy, []);
  });

  test("manual resolve; the next breach is a new instance", () => {
    const { clock, engine } = setup(GT(`    warning: { op: ">", value: 0.8 }`));
    const id = send(engine, clock, 0.9)[0]!.alertId;
    const ev = engine.resolve(id, "carol");
    assert.deepEqual(kinds(ev), ["resolved"]);
    assert.match(ev[0]!.message, /carol/);
    assert.throws(() => engine.acknowledge(id, { by: "x" }), /no such/);
    clock.advance(10 * S);
    const again = send(engine, clock, 0.9);
    assert.deepEqual(kinds(again), ["firing"]);
    assert.notEqual(again[0]!.alertId, id);
  });

  test("one instance per label set; out-of-order and duplicate points are ignored", () => {
    const { clock, engine } = setup(GT(`    warning: { op: ">", value: 0.8 }`));
    send(engine, clock, 0.9, { disk: "a" });
    send(engine, clock, 0.9, { disk: "b" });
    assert.equal(engine.instances().length, 2);
    const late = engine.ingestSamples([{ host: "web-1", metric: "m", labels: { disk: "a" }, timeMs: T0 - 10 * S, value: 0.1 }]);
    assert.deepEqual(kinds(late), []);
    assert.equal(engine.instances().length, 2);
  });

  test("overrides: first matching override's levels per host", () => {
    const { clock, engine } = setup(
      GT(`    warning: { op: ">", value: 0.8 }
    overrides:
      - match: { host: db-1 }
        warning: { op: ">", value: 0.95 }
      - match: { host: "~db-.*" }
        warning: null
        critical: { op: ">", value: 0.5 }`),
    );
    assert.deepEqual(kinds(send(engine, clock, 0.9, {}, "web-1")), ["firing"]);
    assert.deepEqual(kinds(send(engine, clock, 0.9, {}, "db-1")), []);
    clock.advance(S);
    assert.deepEqual(kinds(send(engine, clock, 0.96, {}, "db-1")), ["firing"]);
    const db2 = send(engine, clock, 0.6, {}, "db-2");
    assert.deepEqual(db2.map((e) => [e.kind, e.severity]), [["firing", "critical"]]);
  });

  test("reduce avg over a window", () => {
    const { clock, engine } = setup(GT(`    reduce: { fn: avg, over: 1m }\n    warning: { op: ">", value: 0.5 }`));
    for (const v of [0.2, 0.2, 0.2]) {
      assert.deepEqual(kinds(send(engine, clock, v)), []);
      clock.advance(10 * S);
    }
    assert.deepEqual(kinds(send(engine, clock, 0.9)), [], "avg 0.375: a last-value rule would have fired");
    clock.advance(10 * S);
    send(engine, clock, 0.9);
    clock.advance(10 * S);
    const ev = send(engine, clock, 0.9);
    assert.deepEqual(kinds(ev), ["firing"]);
    assert.ok(Math.abs(ev[0]!.value - 0.55) < 1e-9, `avg ${ev[0]!.value}`);
    // 70 s later the 0.2s have left the 1-minute window: avg of 0.9s.
    clock.advance(40 * S);
    send(engine, clock, 0.9);
    assert.ok(Math.abs(engine.instances()[0]!.value - 0.9) < 1e-9);
  });

  test("rate of a counter, across a counter reset", () => {
    const { clock, engine } = setup(`
rules:
  - name: net-busy
    kind: rate
    metric: bytes
    window: 1m
    warning: { op: ">", value: 100 }
    summary: "{{host}} sends {{value}} B/s"
`);
    const push = (v: number) => engine.ingestSamples([{ host: "web-1", metric: "bytes", labels: {}, timeMs: clock.now(), value: v }]);
    let counter = 1_000_000;
    for (let i = 0; i < 7; i++) {
      assert.deepEqual(kinds(push(counter)), []);
      counter += 500; // 50 B/s
      clock.advance(10 * S);
    }
    push(600); // reset (agent restart): +600 counts as the increase, not -1,003,500
    clock.advance(10 * S);
    push(6600);
    const ev = engine.instances();
    assert.equal(ev.length, 1);
    // window [now-60s, now]: 4 × 500, then the reset's 600, then 6000, over 60 s
    assert.ok(Math.abs(ev[0]!.value - (4 * 500 + 600 + 6000) / 60) < 1e-9, `rate ${ev[0]!.value}`);
    assert.equal(ev[0]!.summary, `web-1 sends ${Number(((4 * 500 + 600 + 6000) / 60).toPrecision(4))} B/s`);
  });
});

describe("restart", () => {
  const yaml = GT(`    warning: { op: ">", value: 0.8 }\n    for: 5m`);

  test("restored in the middle of `for`: fires at the original deadline", () => {
    const a = setup(yaml);
    const id = send(a.engine, a.clock, 0.9)[0]!.alertId;
    a.clock.advance(2 * M);
    const saved = JSON.parse(JSON.stringify(a.engine.instances())) as AlertInstance[];
    const b = setup(yaml, saved, T0 + 3 * M);
    b.clock.set(T0 + 5 * M - 1);
    assert.deepEqual(kinds(b.engine.tick()), []);
    b.clock.set(T0 + 5 * M);
    const fired = b.engine.tick();
    assert.deepEqual(kinds(fired), ["firing"]);
    assert.equal(fired[0]!.alertId, id);
    assert.equal(fired[0]!.instance.activeSince, T0);
    b.clock.advance(10 * S);
    assert.deepEqual(kinds(send(b.engine, b.clock, 0.95)), [], "new samples continue the restored instance");
    assert.equal(b.engine.instances().length, 1);
  });

  test("a firing alert whose condition cleared while down resolves on the first evaluation", () => {
    const a = setup(GT(`    warning: { op: ">", value: 0.8 }`));
    const id = send(a.engine, a.clock, 0.9)[0]!.alertId;
    const b = setup(GT(`    warning: { op: ">", value: 0.8 }`), a.engine.instances(), T0 + 10 * M);
    assert.deepEqual(kinds(b.engine.tick()), [], "a tick without samples cannot tell");
    const ev = send(b.engine, b.clock, 0.3);
    assert.deepEqual(kinds(ev), ["resolved"]);
    assert.equal(ev[0]!.alertId, id);
  });

  test("restored instances of a rule that no longer exists resolve on the first tick", () => {
    const a = setup(GT(`    warning: { op: ">", value: 0.8 }`));
    send(a.engine, a.clock, 0.9);
    const b = setup(GT(`    warning: { op: ">", value: 0.8 }`).replace("name: high", "name: other"), a.engine.instances());
    assert.equal(b.engine.instances().length, 0);
    assert.deepEqual(kinds(b.engine.tick()), ["resolved"]);
  });

  test("setRules keeps instances of rules that remain and resolves the others", () => {
    const two = `
rules:
  - { name: a, kind: threshold, metric: m, warning: { op: ">", value: 0.8 } }
  - { name: b, kind: threshold, metric: m, warning: { op: ">", value: 0.5 } }
`;
    const { clock, engine } = setup(two);
    const fired = send(engine, clock, 0.9);
    assert.deepEqual(kinds(fired), ["firing", "firing"]);
    const changed = engine.setRules(rules(`
rules:
  - { name: a, kind: threshold, metric: m, warning: { op: ">", value: 0.85 } }
`));
    assert.deepEqual(changed.map((e) => [e.kind, e.ruleName]), [["resolved", "b"]]);
    clock.advance(S);
    assert.deepEqual(kinds(send(engine, clock, 0.9)), []);
    assert.equal(engine.instances()[0]!.id, fired[0]!.alertId);
    clock.advance(S);
    assert.deepEqual(kinds(send(engine, clock, 0.84)), ["resolved"], "the new level applies");
  });
});

describe("absence", () => {
  const HOST_DOWN = `
rules:
  - { name: host-down, kind: absent, host_down: true }
`;

  test("host down fires after 3 intervals (at least 30 s), naming the host and its last-seen time; resolves when seen", () => {
    const { clock, engine } = setup(HOST_DOWN);
    engine.hostSeen("web-1", T0, 10 * S);
    engine.hostSeen("db-1", T0, 60 * S);
    clock.advance(30 * S - 1);
    assert.deepEqual(kinds(engine.tick()), []);
    clock.advance(1);
    const down = engine.tick();
    assert.deepEqual(down.map((e) => [e.kind, e.labels.host, e.severity]), [["firing", "web-1", "critical"]]);
    assert.match(down[0]!.message, /web-1/);
    assert.ok(down[0]!.instance.summary.includes(new Date(T0).toISOString()), down[0]!.instance.summary);
    clock.set(T0 + 3 * M);
    assert.deepEqual(engine.tick().map((e) => e.labels.host), ["db-1"]);
    clock.advance(5 * S);
    engine.hostSeen("web-1", clock.now(), 10 * S);
    const back = engine.tick();
    assert.deepEqual(back.map((e) => [e.kind, e.labels.host]), [["resolved", "web-1"]]);
    assert.equal(back[0]!.alertId, down[0]!.alertId);
  });

  test("a restored host-down alert resolves once the host is seen with a fresh time", () => {
    const a = setup(HOST_DOWN);
    a.engine.hostSeen("web-1", T0, 10 * S);
    a.clock.advance(M);
    const id = a.engine.tick()[0]!.alertId;
    const b = setup(HOST_DOWN, a.engine.instances(), T0 + 5 * M);
    b.engine.hostSeen("web-1", T0, 10 * S);
    assert.deepEqual(kinds(b.engine.tick()), [], "still down: the restored alert continues, no duplicate");
    b.engine.hostSeen("web-1", T0 + 5 * M, 10 * S);
    const ev = b.engine.tick();
    assert.deepEqual(kinds(ev), ["resolved"]);
    assert.equal(ev[0]!.alertId, id);
  });

  test("a series that stops reporting", () => {
    const { clock, engine } = setup(`
rules:
  - { name: no-data, kind: absent, metric: m, match: { disk: "~.+" }, for: 2m, severity: warning }
`);
    send(engine, clock, 1, { disk: "a" });
    send(engine, clock, 1, {});
    clock.advance(2 * M);
    const ev = engine.tick();
    assert.deepEqual(ev.map((e) => [e.kind, e.labels.disk, e.severity]), [["firing", "a", "warning"]]);
    assert.deepEqual(kinds(engine.tick()), []);
    assert.deepEqual(kinds(send(engine, clock, 1, { disk: "a" })), ["resolved"]);
  });
});

describe("checks", () => {
  const CHECKS = `
rules:
  - name: check-failing
    kind: check
    check: "~nginx.*"
    for: { critical: 1m, warning: 5m }
`;
  const run = (status: "healthy" | "degraded" | "unhealthy", at: number, check = "nginx") => [{ host: "web-1", check, kind: "http", status, timeMs: at, message: `it is ${status}` }];

  test("unhealthy → critical after `for`", () => {
    const { clock, engine } = setup(CHECKS);
    assert.deepEqual(kinds(engine.ingestChecks(run("unhealthy", T0))), ["pending"]);
    assert.deepEqual(kinds(engine.ingestChecks(run("unhealthy", T0, "postgres"))), [], "check name matcher");
    clock.advance(30 * S);
    assert.deepEqual(kinds(engine.ingestChecks(run("unhealthy", clock.now()))), []);
    clock.advance(30 * S);
    const ev = engine.tick();
    assert.deepEqual(ev.map((e) => [e.kind, e.severity, e.labels.check]), [["firing", "critical", "nginx"]]);
    assert.equal(ev[0]!.instance.summary, "Check nginx on web-1 is unhealthy: it is unhealthy");
    clock.advance(10 * S);
    assert.deepEqual(kinds(engine.ingestChecks(run("healthy", clock.now()))), ["resolved"]);
  });

  test("flapping between degraded and unhealthy still fires the warning after its `for`", () => {
    const { clock, engine } = setup(CHECKS);
    const all: AlertEvent[] = [];
    for (let i = 0; i <= 10; i++) {
      all.push(...engine.ingestChecks(run(i % 2 ? "unhealthy" : "degraded", clock.now())));
      clock.advance(30 * S);
    }
    assert.deepEqual(all.map((e) => [e.kind, e.severity]), [["pending", "warning"], ["firing", "warning"]]);
  });
});

describe("default rules", () => {
  test("total CPU only (no cpu label), idle below 20 % averaged over 5m for 5m", () => {
    const clock = new ManualClock(T0);
    const engine = new RuleEngine({ rules: defaultRules(), clock });
    const all: AlertEvent[] = [];
    for (let i = 0; i <= 30; i++) {
      all.push(
        ...engine.ingestSamples([
          { host: "web-1", metric: "system.cpu.utilization", labels: { state: "idle" }, timeMs: clock.now(), value: 0.1 },
          { host: "web-1", metric: "system.cpu.utilization", labels: { state: "idle", cpu: "0" }, timeMs: clock.now(), value: 0.01 },
          { host: "web-1", metric: "system.cpu.utilization", labels: { state: "user" }, timeMs: clock.now(), value: 0.9 },
        ]),
      );
      clock.advance(10 * S);
    }
    assert.deepEqual(all.map((e) => [e.kind, e.severity, e.labels.cpu ?? "-"]), [["pending", "warning", "-"], ["firing", "warning", "-"]]);
    assert.equal(all[1]!.instance.summary, "CPU on web-1 is busy: only 10.0% idle (5-minute average)");
    assert.equal(engine.stats().series, 1, "non-matching series keep no state");
  });

  test("storage-filling: the collector's days-until-full warns under 7, is critical under 2, clears past 8", () => {
    const clock = new ManualClock(T0);
    const engine = new RuleEngine({ rules: defaultRules(), clock });
    // One point per maintenance run, every 10 minutes, as the collector sends them.
    const point = (value: number) => {
      const events = engine.ingestSamples([{ host: "collector-1", metric: "vigil.storage.days_until_full", labels: {}, timeMs: clock.now(), value }]);
      clock.advance(10 * M);
      return events.map((e) => [e.kind, e.severity]);
    };
    assert.deepEqual(point(9), []);
    const [fired] = engine.ingestSamples([{ host: "collector-1", metric: "vigil.storage.days_until_full", labels: {}, timeMs: clock.now(), value: 6.5 }]);
    assert.deepEqual([fired?.kind, fired?.severity], ["firing", "warning"]);
    assert.deepEqual(fired!.labels, { host: "collector-1", alertname: "storage-filling" });
    assert.equal(fired!.instance.summary, "Vigil's database volume (collector collector-1) fills in about 6.5 days at its current growth");
    clock.advance(10 * M);
    assert.deepEqual(point(7.5), [], "held until 8 days");
    assert.deepEqual(point(1.5), [["severity_changed", "critical"]]);
    assert.deepEqual(point(2.5), [], "critical held until 3 days");
    assert.deepEqual(point(5), [["severity_changed", "warning"]]);
    assert.deepEqual(point(3650), [["resolved", "warning"]]);
  });
});
