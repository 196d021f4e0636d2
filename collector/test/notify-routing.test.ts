import { test } from "node:test";
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { ManualClock, type Labels } from "@vigil/shared";
import { NotificationPolicy, PolicyConfigError, parsePolicyConfig, type PolicySnapshot } from "../src/notify/routing/index.js";
import type { Notification } from "../src/notify/types.js";
import type { AlertEventKind, AlertInstance, Severity } from "../src/rules/types.js";

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const S = 1000;
const M = 60_000;
const H = 3_600_000;

/** A fake alert engine feeding a NotificationPolicy, with a clock the test moves. */
function setup(yaml: string, opts: { ack?: string[]; restore?: PolicySnapshot; clock?: ManualClock } = {}) {
  const clock = opts.clock ?? new ManualClock(T0);
  const config = parsePolicyConfig(parseYaml(yaml));
  let n = 0;
  const ackable = new Set(opts.ack ?? []);
  const policy = new NotificationPolicy({ config, clock, receiverSupportsAck: (r) => ackable.has(r), newId: () => `n${++n}`, restore: opts.restore });
  // A restored policy's alerts are known to this fake engine too, so tests can go on transitioning them.
  const alerts = new Map<string, AlertInstance>((opts.restore?.alerts ?? []).map((a) => [a.id, structuredClone(a)]));
  const send = (kind: AlertEventKind, a: AlertInstance): void =>
    policy.onAlertEvents([{ alertId: a.id, ruleName: a.ruleName, kind, severity: a.severity, value: a.value, labels: a.labels, timeMs: clock.now(), message: kind, instance: structuredClone(a) }]);
  /** Applies a transition to an alert and sends its event. */
  const set = (id: string, kind: AlertEventKind, patch: Partial<AlertInstance>): void => send(kind, Object.assign(alerts.get(id) ?? assert.fail(`no alert ${id}`), patch));
  return {
    clock,
    policy,
    /** A new alert; `state` pending or firing (firing at once, as with `for: 0`). */
    add(id: string, rule: string, host: string, o: { labels?: Labels; severity?: Severity; state?: "pending" | "firing"; silenced?: boolean } = {}) {
      const now = clock.now();
      const state = o.state ?? "firing";
      const a: AlertInstance = {
        id, ruleName: rule, ruleKind: "threshold", labels: { ...o.labels, host, alertname: rule }, key: `${rule}/${host}/${id}`, state, severity: o.severity ?? "warning",
        value: 1, summary: `${rule} on ${host}`, activeSince: now, firingSince: state === "firing" ? now : null, resolvedAt: null, lastEvalAt: now,
        heldSince: { warning: now, critical: null }, clearSince: null, keepFiringUntil: null, acknowledged: null, silencedBy: o.silenced ? ["s1"] : [],
      };
      alerts.set(id, a);
      send(state, a);
    },
    resolve: (id: string) => set(id, "resolved", { state: "resolved", resolvedAt: clock.now() }),
    ack: (id: string) => set(id, "acknowledged", { acknowledged: { by: "ann", at: clock.now(), comment: "on it" } }),
    silence: (id: string, on = true) => set(id, on ? "silenced" : "unsilenced", { silencedBy: on ? ["s1"] : [] }),
    severity: (id: string, severity: Severity) => set(id, "severity_changed", { severity }),
    /** Ticks now, then every `step` up to exactly T0 + `to`; returns everything emitted. */
    until(to: number, step = S): Notification[] {
      const out: Notification[] = [...policy.tick()];
      while (clock.now() < T0 + to) {
        clock.advance(Math.min(step, T0 + to - clock.now()));
        out.push(...policy.tick());
      }
      return out;
    },
  };
}

/** "receiver kind/tier [alert ids, resolved ones with a -] @offset". */
const show = (ns: Notification[]): string[] =>
  ns.map((n) => `${n.receiver} ${n.kind}/${n.tier} [${n.alerts.map((a) => (a.state === "resolved" ? `${a.id}-` : a.id)).join(",")}] @${(n.createdAt - T0) / S}s`);

const tree = `
route:
  receivers: [default]
  escalation: none
  routes:
    - { match: { host: "~db-.*" }, receivers: [dba] }
    - { match: { alertname: cpu-high }, receivers: [cpu] }
    - { match: { severity: critical }, receivers: [pager], continue: true }
    - { match: { severity: critical }, receivers: [ops] }
`;

test("the first matching child wins; unmatched alerts stay at the parent", () => {
  const { policy } = setup(tree);
  assert.deepEqual(policy.routesFor({ alertname: "cpu-high", host: "db-1" }), ["dba"]);
  assert.deepEqual(policy.routesFor({ alertname: "cpu-high", host: "web-1" }), ["cpu"]);
  assert.deepEqual(policy.routesFor({ alertname: "disk", host: "web-1" }), ["default"]);
});

test("continue: true lets later siblings match too, each with its own group", () => {
  const h = setup(tree);
  assert.deepEqual(h.policy.routesFor({ alertname: "disk", host: "web-1", severity: "critical" }), ["pager", "ops"]);
  h.add("a1", "disk", "web-1", { severity: "critical" });
  const ns = h.until(1 * S);
  assert.deepEqual(show(ns), ["pager firing/0 [a1] @1s", "ops firing/0 [a1] @1s"]);
  assert.notEqual(ns[0]!.groupKey, ns[1]!.groupKey);
});

test("children inherit unset settings from their parent", () => {
  const yaml = `
route:
  receivers: [team]
  group_wait: 10s
  group_by: [host]
  escalation: none
  routes:
    - match: { host: "~db-.*" }
      group_wait: 30s
      routes: [ { match: { alertname: disk }, receivers: [dba] } ]
`;
  const c = parsePolicyConfig(parseYaml(yaml));
  const mid = c.route.routes[0]!;
  const leaf = mid.routes[0]!;
  assert.deepEqual([mid.receivers, mid.groupWaitMs, mid.groupBy], [["team"], 30 * S, ["host"]]);
  assert.deepEqual([leaf.receivers, leaf.groupWaitMs, leaf.groupBy, leaf.escalation, leaf.repeatIntervalMs], [["dba"], 30 * S, ["host"], "none", 4 * H]);
  const h = setup(yaml);
  h.add("a1", "disk", "db-1");
  assert.deepEqual(h.until(29 * S), []);
  const ns = h.until(30 * S);
  assert.deepEqual([show(ns), ns[0]!.groupLabels], [["dba firing/0 [a1] @30s"], { host: "db-1" }]);
});

const simple = `route: { receivers: [ops], escalation: none }`;

test("two hosts make two groups; two alerts of one group go out together after group_wait", () => {
  const h = setup(simple);
  h.add("a1", "cpu-high", "web-1");
  h.add("a2", "cpu-high", "web-2");
  h.add("f1", "filesystem-full", "db-1", { labels: { mount: "/" } });
  h.clock.advance(500);
  h.add("f2", "filesystem-full", "db-1", { labels: { mount: "/var" } });
  assert.deepEqual(h.policy.tick(), [], "nothing before group_wait (1s)");
  const ns = h.until(2 * S, 500);
  assert.deepEqual(show(ns), ["ops firing/0 [a1] @1s", "ops firing/0 [a2] @1s", "ops firing/0 [f1,f2] @1s"]);
  assert.deepEqual(ns[2]!.groupLabels, { alertname: "filesystem-full", host: "db-1" });
  assert.equal(ns[2]!.groupKey, '/:{alertname="filesystem-full",host="db-1"}');
  assert.equal(new Set(ns.map((n) => n.id)).size, 3, "fresh ids");
});

test("later changes wait group_interval after the last notification and go out as one batch", () => {
  const h = setup(`route: { receivers: [ops], group_by: [host], escalation: none }`);
  h.add("a1", "cpu-high", "web-1");
  assert.deepEqual(show(h.until(1 * S)), ["ops firing/0 [a1] @1s"]);
  h.until(10 * S);
  h.add("a2", "memory-high", "web-1");
  h.until(20 * S);
  h.add("a3", "disk", "web-1");
  h.until(40 * S);
  h.resolve("a1");
  assert.deepEqual(h.until(60 * S), [], "nothing within group_interval (1m) of the last notification");
  assert.deepEqual(show(h.until(61 * S)), ["ops firing/0 [a2,a3,a1-] @61s"]);
  h.resolve("a2");
  h.resolve("a3");
  assert.deepEqual(show(h.until(3 * M)), ["ops resolved/0 [a2-,a3-] @121s"]);
});

test("a change that is undone before it is due sends nothing", () => {
  const h = setup(simple);
  h.add("a1", "cpu-high", "web-1");
  h.until(10 * S);
  h.severity("a1", "critical");
  h.until(20 * S);
  h.severity("a1", "warning");
  assert.deepEqual(h.until(3 * M), []);
});

test("an unchanged firing group repeats every repeat_interval (4h by default)", () => {
  const h = setup(simple);
  h.add("a1", "cpu-high", "web-1");
  assert.equal(h.until(1 * S).length, 1);
  assert.deepEqual(h.until(4 * H), []);
  assert.deepEqual(show(h.until(8 * H + 10 * S, 10 * S)), ["ops repeat/0 [a1] @14410s", "ops repeat/0 [a1] @28810s"]);
});

test("alerts that never fired, or cleared before group_wait, are never notified", () => {
  const h = setup(simple);
  h.add("p1", "cpu-high", "web-1", { state: "pending" });
  h.add("a2", "cpu-high", "web-2");
  h.clock.advance(500);
  h.resolve("p1");
  h.resolve("a2");
  assert.deepEqual(h.until(10 * M), []);
  assert.deepEqual(h.policy.state(), { version: 1, alerts: [], groups: [] }, "nothing left to track");
});

test("silenced: no firing notice, but the resolution reaches receivers that were told it fired", () => {
  const h = setup(`route: { receivers: [ops], escalation: none }`);
  h.add("a1", "cpu-high", "web-1");
  assert.deepEqual(show(h.until(1 * S)), ["ops firing/0 [a1] @1s"]);
  h.silence("a1");
  h.add("b1", "cpu-high", "web-2", { silenced: true });
  assert.deepEqual(h.until(5 * H, 10 * S), [], "no firing for b1, no repeats while silenced");
  h.resolve("a1");
  h.resolve("b1");
  assert.deepEqual(show(h.until(5 * H + 2 * S)), ["ops resolved/0 [a1-] @18001s"]);
});

test("a firing host-down inhibits that host's other alerts until it resolves", () => {
  const h = setup(`route: { receivers: [ops], escalation: none }`);
  h.add("d1", "host-down", "web-1", { severity: "critical" });
  h.add("c1", "cpu-high", "web-1");
  h.add("m1", "memory-high", "web-1");
  h.add("c2", "cpu-high", "web-2");
  assert.deepEqual(show(h.until(1 * M)), ["ops firing/0 [d1] @1s", "ops firing/0 [c2] @1s"]);
  h.resolve("m1");
  h.until(5 * M);
  h.resolve("d1");
  assert.deepEqual(show(h.until(6 * M)), ["ops resolved/0 [d1-] @301s", "ops firing/0 [c1] @301s"]);
});

test("a custom inhibit rule; inhibit_host_down: false turns the built-in one off", () => {
  const h = setup(`
route: { receivers: [ops], escalation: none }
inhibit_host_down: false
inhibit_rules: [ { source_match: { alertname: cpu-high, severity: critical }, target_match: { severity: warning }, equal: [host] } ]
`);
  h.add("c1", "cpu-high", "web-1", { severity: "critical" });
  h.add("m1", "memory-high", "web-1");
  h.add("m2", "memory-high", "web-2");
  h.add("d3", "host-down", "web-3", { severity: "critical" });
  h.add("m3", "memory-high", "web-3", { severity: "critical" });
  assert.deepEqual(show(h.until(1 * S)).sort(), ["ops firing/0 [c1] @1s", "ops firing/0 [d3] @1s", "ops firing/0 [m2] @1s", "ops firing/0 [m3] @1s"]);
});

test("an acknowledgement stops repeats and escalation and is notified only to ack-capable receivers", () => {
  const h = setup(`route: { receivers: [pd, mail] }`, { ack: ["pd"] });
  h.add("a1", "cpu-high", "web-1");
  assert.deepEqual(show(h.until(1 * S)), ["pd firing/0 [a1] @1s", "mail firing/0 [a1] @1s"]);
  h.until(10 * M);
  h.ack("a1");
  const ns = h.until(10 * M + 1 * S);
  assert.deepEqual(show(ns), ["pd acknowledged/0 [a1] @600s"]);
  assert.equal(ns[0]!.alerts[0]!.acknowledged?.by, "ann");
  assert.deepEqual(h.until(9 * H, 10 * S), [], "no escalation at 15m/30m, no repeat at 4h");
  h.resolve("a1");
  assert.deepEqual(show(h.until(9 * H + 2 * S)), ["pd resolved/0 [a1-] @32401s", "mail resolved/0 [a1-] @32401s"]);
});

const tiers = `
route: { receivers: [oncall] }
escalation_policies:
  default:
    tiers: [ { after: 0m }, { after: 15m, receivers: [secondary] }, { after: 30m, receivers: [manager] } ]
`;

test("escalation walks all three tiers while unacknowledged, then an ack stops everything", () => {
  const h = setup(tiers, { ack: ["oncall", "secondary", "manager"] });
  h.add("a1", "cpu-high", "web-1");
  assert.deepEqual(show(h.until(15 * M - 1 * S)), ["oncall firing/0 [a1] @1s"]);
  assert.deepEqual(show(h.until(15 * M)), ["secondary escalation/1 [a1] @900s"]);
  assert.deepEqual(show(h.until(30 * M)), ["manager escalation/2 [a1] @1800s"]);
  h.until(40 * M);
  h.ack("a1");
  assert.deepEqual(show(h.until(40 * M)), ["oncall acknowledged/0 [a1] @2400s", "secondary acknowledged/1 [a1] @2400s", "manager acknowledged/2 [a1] @2400s"]);
  assert.deepEqual(h.until(6 * H, 10 * S), [], "no repeats or further escalation after the ack");
  h.resolve("a1");
  assert.equal(h.until(6 * H + 1 * S).filter((n) => n.kind === "resolved").length, 3, "every tier that was told hears the resolution");
});

test("an ack between tiers keeps later tiers from being paged", () => {
  const h = setup(tiers);
  h.add("a1", "cpu-high", "web-1");
  h.until(20 * M);
  h.ack("a1");
  assert.deepEqual(h.until(2 * H, 10 * S).filter((n) => n.kind === "escalation").map((n) => n.receiver), []);
});

test("the default policy re-notifies the route's receivers at 15m and 30m", () => {
  const h = setup(`route: { receivers: [ops] }`);
  h.add("a1", "cpu-high", "web-1");
  assert.deepEqual(show(h.until(31 * M)), ["ops firing/0 [a1] @1s", "ops escalation/1 [a1] @900s", "ops escalation/2 [a1] @1800s"]);
});

test("restoring a snapshot taken mid-group_wait continues the group's timers and escalation", () => {
  const yaml = `route: { receivers: [ops], group_wait: 10s }`;
  const h = setup(yaml);
  h.add("a1", "cpu-high", "web-1");
  assert.deepEqual(h.until(5 * S), []);
  const snap = JSON.parse(JSON.stringify(h.policy.state())) as PolicySnapshot;
  const clock = new ManualClock(h.clock.now());
  const r = setup(yaml, { restore: snap, clock });
  assert.deepEqual(r.until(9 * S), []);
  assert.deepEqual(show(r.until(15 * M)), ["ops firing/0 [a1] @10s", "ops escalation/1 [a1] @900s"]);
  r.resolve("a1");
  assert.deepEqual(show(r.until(16 * M)).map((s) => s.split(" @")[0]), ["ops resolved/0 [a1-]"]);
});

const bad = (yaml: string, re: RegExp, receivers?: string[]): void =>
  assert.throws(() => parsePolicyConfig(parseYaml(yaml), { receivers }), (err: unknown) => {
    assert.ok(err instanceof PolicyConfigError && err.code === "VGL_ERR_BAD_CONFIG");
    assert.match(err.message, re);
    return true;
  });

test("config defaults; validation errors name the path", () => {
  const c = parsePolicyConfig(undefined);
  assert.deepEqual([c.route.groupBy, c.route.groupWaitMs, c.route.groupIntervalMs, c.route.repeatIntervalMs, c.route.escalation], [["alertname", "host"], 1 * S, 1 * M, 4 * H, "default"]);
  assert.deepEqual([c.route.tiers.map((t) => t.afterMs), c.inhibitRules.map((r) => r.sourceMatch)], [[0, 15 * M, 30 * M], [{ alertname: "host-down" }]]);
  bad(`route: { routes: [ { group_wait: soon } ] }`, /^route\.routes\[0\]\.group_wait: expected a duration/);
  bad(`route: { routes: [ {}, { grup_by: [host] } ] }`, /^route\.routes\[1\]\.grup_by: unknown field/);
  bad(`route: { routes: [ { escalation: pager } ] }`, /^route\.routes\[0\]\.escalation: unknown escalation policy "pager"/);
  bad(`inhibit_rules: [ { source_match: { host: "~(" }, target_match: {} } ]`, /^inhibit_rules\[0\]\.source_match\.host: invalid regular expression/);
  bad(`escalation_policies: { p: { tiers: [ { after: 0m }, { after: 30m }, { after: 15m } ] } }`, /^escalation_policies\.p\.tiers\[2\]\.after: must be later than tiers\[1\]\.after \(30m\)/);
  bad(`route: { group_by: [host, "..."] }`, /^route\.group_by: "\.\.\." \(every label\)/);
  bad(`route: { group_interval: 5h, routes: [ {} ] }`, /^route\.group_interval: repeat_interval \(4h\) must not be shorter than group_interval \(5h\)$/);
  bad(`route: { receivers: [ops], routes: [ { receivers: [pd] } ] }`, /^route\.routes\[0\]\.receivers: unknown receiver "pd"/, ["ops"]);
});
