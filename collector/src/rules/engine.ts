// The rule engine: indexes rules by metric, keeps per-series windows, runs the per-alert state machine.
// State-machine times are the engine's Clock (ticks and samples share one time base, whatever the agents' clocks);
// sample timestamps only order points and place them in windows.
import { randomUUID } from "node:crypto";
import type { Clock, Labels } from "@vigil/shared";
import { CollectorError, CollectorErrors } from "../errors.js";
import { compileRule, levelsMet, type CompiledCheck, type CompiledRule } from "./compile.js";
import { absentTick, hostDownTick, type AbsenceContext, type HostState } from "./absence.js";
import { evaluateCheckRun } from "./checks.js";
import { bindSeries, instanceKey, newSeries, seriesKey, type EngineAlert, type SeriesState } from "./series.js";
import * as sm from "./state-machine.js";
import type { Acknowledgement, AlertEvent, AlertInstance, CheckRunInput, Rule, SamplePoint } from "./types.js";

export interface RuleEngineOptions {
  rules: Rule[];
  clock: Clock;
  /** Pending and firing instances saved before a restart (resolved ones are ignored). */
  restore?: AlertInstance[];
  /** Instance ids; default crypto.randomUUID. */
  newId?: () => string;
}

const SWEEP_EVERY_MS = 60_000;
const STALE_SERIES_MS = 15 * 60_000;

export class RuleEngine {
  private readonly clock: Clock;
  private readonly newId: () => string;
  private byName = new Map<string, CompiledRule>();
  private byMetric = new Map<string, CompiledRule[]>();
  private checkRules: CompiledCheck[] = [];
  private hostDownRules: CompiledRule[] = [];
  private readonly series = new Map<string, SeriesState>();
  /** Series read by an absence rule, checked on every tick. */
  private readonly absentTracked = new Set<SeriesState>();
  private readonly hosts = new Map<string, HostState>();
  private readonly alertsById = new Map<string, EngineAlert>();
  private readonly alertsByKey = new Map<string, EngineAlert>();
  /** Restored instances whose rule is gone: resolved on the first tick. */
  private orphans: AlertInstance[] = [];
  private lastSweep = 0;
  private readonly ctx: AbsenceContext = {
    hosts: this.hosts,
    alertsByKey: this.alertsByKey,
    create: (...args) => this.create(...args),
    register: (a) => this.register(a),
    drop: (a) => this.drop(a),
  };

  constructor(options: RuleEngineOptions) {
    this.clock = options.clock;
    this.newId = options.newId ?? randomUUID;
    this.index(options.rules);
    for (const saved of options.restore ?? []) {
      if (saved.state === "resolved") continue;
      const data = sm.snapshot(saved);
      const rule = this.byName.get(data.ruleName);
      if (!rule || !this.stillApplies(rule, data)) {
        this.orphans.push(data);
        continue;
      }
      this.register(this.revive(data, rule, null));
    }
  }

  private revive(data: AlertInstance, rule: CompiledRule, series: SeriesState | null): EngineAlert {
    const extra: Record<string, string> = rule.kind === "absent" ? { last_seen: new Date(data.activeSince).toISOString() } : {};
    return { data, rule, metric: rule.kind === "check" ? "" : rule.metric, extra, series };
  }

  /** Replaces the rules; instances of rules that still exist (same name and kind) keep their state. */
  setRules(rules: Rule[]): AlertEvent[] {
    const out: AlertEvent[] = [];
    const now = this.clock.now();
    this.index(rules);
    for (const a of this.alertsById.values()) {
      const rule = this.byName.get(a.data.ruleName);
      if (rule && this.stillApplies(rule, a.data)) a.rule = rule;
      else this.end(a, now, rule ? `rule ${a.data.ruleName} changed and no longer covers this alert` : `rule ${a.data.ruleName} removed`, out);
    }
    this.absentTracked.clear();
    for (const s of this.series.values()) {
      const bound = bindSeries(s, this.byMetric.get(s.metric) ?? []);
      for (const a of s.alerts.values()) if (!s.rules.includes(a.rule)) this.end(a, now, `rule ${a.data.ruleName} no longer matches this series`, out);
      if (!bound) this.series.delete(s.key);
      else if (s.hasAbsent) this.absentTracked.add(s);
    }
    return out;
  }

  /** Whether some rule evaluates this metric's samples: those of any other metric may be left out of ingestSamples. */
  watches(metric: string): boolean {
    return this.byMetric.has(metric);
  }

  ingestSamples(points: readonly SamplePoint[]): AlertEvent[] {
    const out: AlertEvent[] = [];
    const now = this.clock.now();
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      const rules = this.byMetric.get(p.metric);
      if (rules === undefined || !Number.isFinite(p.value)) continue;
      // Matchers before the key: most series of a metric (per-core CPU…) match no rule, and cost no allocation.
      let any = false;
      for (let j = 0; j < rules.length && !any; j++) any = rules[j]!.matcher(p.host, p.labels);
      if (!any) continue;
      const key = seriesKey(p.metric, p.host, p.labels);
      let s = this.series.get(key);
      if (s === undefined) {
        s = newSeries(key, p.metric, p.host, p.labels);
        bindSeries(s, rules);
        for (const r of s.rules) {
          const a = this.alertsByKey.get(instanceKey(r.name, key));
          if (a) this.attach(a, s);
        }
        this.series.set(key, s);
      }
      if (p.timeMs <= s.lastTime) continue;
      s.lastTime = p.timeMs;
      s.lastValue = p.value;
      s.lastSeenAt = now;
      if (s.window) {
        s.window.push(p.timeMs, p.value);
        s.window.trimBefore(p.timeMs - s.windowMs);
      }
      if (s.hasAbsent) this.absentTracked.add(s);
      for (let j = 0; j < s.rules.length; j++) this.evaluate(s, s.rules[j]!, j, now, out);
    }
    return out;
  }

  ingestChecks(runs: readonly CheckRunInput[]): AlertEvent[] {
    const out: AlertEvent[] = [];
    const now = this.clock.now();
    for (const run of runs) evaluateCheckRun(this.ctx, this.checkRules, run, now, out);
    return out;
  }

  /** Records a host's last report (for host_down rules); takes effect on the next tick. */
  hostSeen(host: string, lastSeenMs: number, intervalMs: number): void {
    const h = this.hosts.get(host);
    if (h) {
      h.lastSeenMs = Math.max(h.lastSeenMs, lastSeenMs);
      h.intervalMs = intervalMs;
    } else this.hosts.set(host, { lastSeenMs, intervalMs });
  }

  /**
   * Time-driven transitions: absence deadlines, `for` deadlines without new samples, keep_firing_for expiry; and
   * host-down unless `hostDown: false` (in a cluster one collector evaluates it, through tickHostDown).
   */
  tick({ hostDown = true }: { hostDown?: boolean } = {}): AlertEvent[] {
    const out: AlertEvent[] = [];
    const now = this.clock.now();
    for (const data of this.orphans) sm.resolveAlert({ data }, now, `rule ${data.ruleName} no longer exists`, out);
    this.orphans = [];
    if (hostDown) hostDownTick(this.ctx, this.hostDownRules, now, out);
    absentTick(this.ctx, this.absentTracked, now, out);
    for (const a of this.alertsById.values()) {
      if (a.rule.kind === "absent") continue;
      sm.settle(a, now, out);
      if (a.data.state === "resolved") this.drop(a);
    }
    if (now - this.lastSweep >= SWEEP_EVERY_MS) this.sweep(now);
    return out;
  }

  /** Host-down transitions alone, for the collector holding the host-down lease. */
  tickHostDown(): AlertEvent[] {
    const out: AlertEvent[] = [];
    hostDownTick(this.ctx, this.hostDownRules, this.clock.now(), out);
    return out;
  }

  /**
   * Takes the stored host-down instances in place of those held here (a collector taking the lease over carries on);
   * returns those it took.
   */
  adoptHostDown(stored: readonly AlertInstance[]): AlertInstance[] {
    this.forgetHostDown();
    const taken: AlertInstance[] = [];
    for (const saved of stored) {
      const rule = this.byName.get(saved.ruleName);
      if (saved.state === "resolved" || !rule || !this.hostDownRules.includes(rule)) continue;
      this.reinstate(saved);
      const a = this.alertsById.get(saved.id);
      if (a) taken.push(sm.snapshot(a.data));
    }
    return taken;
  }

  /** Takes a host's stored alerts (host-down aside) that are not held here: its stream moved here from another collector. */
  adoptHost(host: string, stored: readonly AlertInstance[]): void {
    for (const saved of stored) {
      const rule = this.byName.get(saved.ruleName);
      if (saved.state === "resolved" || saved.labels.host !== host || !rule || this.hostDownRules.includes(rule)) continue;
      this.reinstate(saved);
    }
  }

  /** Forgets a host's alerts (host-down aside) and series: its stream went to another collector. */
  forgetHost(host: string): void {
    for (const a of [...this.alertsById.values()]) if (a.data.labels.host === host && !this.hostDownRules.includes(a.rule)) this.drop(a);
    for (const s of [...this.series.values()]) {
      if (s.host !== host) continue;
      this.series.delete(s.key);
      this.absentTracked.delete(s);
    }
  }

  /** Forgets the host-down instances: another collector evaluates host-down now. */
  forgetHostDown(): void {
    for (const a of [...this.alertsById.values()]) if (this.hostDownRules.includes(a.rule)) this.drop(a);
  }

  acknowledge(id: string, ack: { by: string; comment?: string }): AlertEvent[] {
    const out: AlertEvent[] = [];
    sm.acknowledge(this.get(id), ack.by, ack.comment ?? "", this.clock.now(), out);
    return out;
  }

  unacknowledge(id: string, by: string): AlertEvent[] {
    const out: AlertEvent[] = [];
    sm.unacknowledge(this.get(id), by, this.clock.now(), out);
    return out;
  }

  /** Manual resolve. An absence alert also forgets the host or series until it reports again (else it would refire). */
  resolve(id: string, by: string): AlertEvent[] {
    const out: AlertEvent[] = [];
    const a = this.get(id);
    if (a.rule.kind === "absent") {
      if (a.series) this.absentTracked.delete(a.series);
      else if (a.data.labels.host !== undefined && a.rule.hostDown) this.hosts.delete(a.data.labels.host);
    }
    this.end(a, this.clock.now(), `resolved by ${by}`, out);
    return out;
  }

  /** Undoes an (un)acknowledgement the store refused, unless the alert's acknowledgement changed again since. */
  undoAcknowledgement(id: string, applied: Acknowledgement | null, previous: Acknowledgement | null): void {
    const a = this.alertsById.get(id);
    const now = a?.data.acknowledged ?? null;
    if (a && (now === applied || (now !== null && applied !== null && now.by === applied.by && now.at === applied.at))) a.data.acknowledged = previous ? { ...previous } : null;
  }

  /** Puts back an instance whose manual resolve the store refused (unless its key has a new instance since). */
  reinstate(saved: AlertInstance): void {
    const rule = this.byName.get(saved.ruleName);
    if (this.alertsById.has(saved.id) || this.alertsByKey.has(saved.key) || !rule || !this.stillApplies(rule, saved)) return;
    const series = this.series.get(saved.key.slice(rule.name.length + 1)) ?? null;
    const a = this.revive(sm.snapshot(saved), rule, series);
    this.register(a);
    if (series?.hasAbsent) this.absentTracked.add(series);
    else if (rule.kind === "absent" && rule.hostDown && saved.labels.host !== undefined && !this.hosts.has(saved.labels.host)) {
      this.hosts.set(saved.labels.host, { lastSeenMs: saved.activeSince, intervalMs: 0 });
    }
  }

  /** Sets which silences cover the alert (matching is the caller's); events when it becomes (un)silenced. */
  setSilenced(id: string, silenceIds: readonly string[]): AlertEvent[] {
    const out: AlertEvent[] = [];
    sm.setSilenced(this.get(id), silenceIds, this.clock.now(), out);
    return out;
  }

  /** Pending and firing instances (copies). */
  instances(): AlertInstance[] {
    return [...this.alertsById.values()].map((a) => sm.snapshot(a.data));
  }

  holds(id: string): boolean {
    return this.alertsById.has(id);
  }

  instance(id: string): AlertInstance | undefined {
    const a = this.alertsById.get(id);
    return a ? sm.snapshot(a.data) : undefined;
  }

  stats(): { rules: number; series: number; hosts: number; alerts: number } {
    return { rules: this.byName.size, series: this.series.size, hosts: this.hosts.size, alerts: this.alertsById.size };
  }

  private index(rules: readonly Rule[]): void {
    this.byName = new Map();
    this.byMetric = new Map();
    this.checkRules = [];
    this.hostDownRules = [];
    for (const rule of rules) {
      const c = compileRule(rule);
      this.byName.set(c.name, c);
      if (c.kind === "check") this.checkRules.push(c);
      else if (c.kind === "absent" && c.hostDown) this.hostDownRules.push(c);
      else {
        const list = this.byMetric.get(c.metric);
        if (list) list.push(c);
        else this.byMetric.set(c.metric, [c]);
      }
    }
  }

  /** Whether an instance still belongs to `rule` (same kind, and for an unbound one, the same metric or match). */
  private stillApplies(rule: CompiledRule, d: AlertInstance): boolean {
    if (rule.rule.kind !== d.ruleKind) return false;
    if (rule.kind === "check") return rule.matcher(d.labels.host ?? "", d.labels);
    if (rule.kind === "absent" && rule.hostDown) return rule.matcher(d.labels.host ?? "", {});
    return d.key.startsWith(`${rule.name} ${rule.metric}{`);
  }

  private evaluate(s: SeriesState, r: CompiledRule, j: number, now: number, out: AlertEvent[]): void {
    const a = s.alerts.get(r.name);
    if (r.kind === "absent") {
      if (a) this.end(a, now, `${s.metric} on ${s.host} reports again`, out);
      return;
    }
    if (r.kind === "check") return;
    const v = r.windowMs === 0 ? s.lastValue : r.kind === "rate" ? s.window!.rate(s.lastTime - r.windowMs, r.counter) : s.window!.reduce(r.reduceFn, s.lastTime - r.windowMs);
    if (Number.isNaN(v)) return;
    const lv = s.levels[j];
    if (!lv) return;
    const held = a?.data.heldSince;
    const mask = levelsMet(lv, v, held !== undefined && held.warning !== null, held !== undefined && held.critical !== null);
    if (a) {
      sm.observe(a, mask, v, now, out);
      if (a.data.state === "resolved") this.drop(a);
    } else if (mask !== 0) {
      const labels = { ...s.labels, ...r.labels, host: s.host, alertname: r.name };
      const created = this.create(r, instanceKey(r.name, s.key), labels, s.metric, v, now, s);
      sm.start(created, mask, v, now, out);
      if (created.data.state !== "resolved") this.register(created);
    }
  }

  private create(rule: CompiledRule, key: string, labels: Labels, metric: string, value: number, now: number, series: SeriesState | null): EngineAlert {
    return { data: sm.newInstance(this.newId(), rule, key, labels, value, now), rule, metric, extra: {}, series };
  }

  private register(a: EngineAlert): void {
    this.alertsById.set(a.data.id, a);
    this.alertsByKey.set(a.data.key, a);
    if (a.series) a.series.alerts.set(a.rule.name, a);
  }

  private attach(a: EngineAlert, s: SeriesState): void {
    a.series = s;
    s.alerts.set(a.rule.name, a);
  }

  private drop(a: EngineAlert): void {
    this.alertsById.delete(a.data.id);
    if (this.alertsByKey.get(a.data.key) === a) this.alertsByKey.delete(a.data.key);
    if (a.series && a.series.alerts.get(a.rule.name) === a) a.series.alerts.delete(a.rule.name);
  }

  private end(a: EngineAlert, now: number, message: string, out: AlertEvent[]): void {
    sm.resolveAlert(a, now, message, out);
    this.drop(a);
  }

  private get(id: string): EngineAlert {
    const a = this.alertsById.get(id);
    if (!a) throw new CollectorError(CollectorErrors.NOT_FOUND, `alert ${id}: no such pending or firing alert`);
    return a;
  }

  /** Forgets series that stopped reporting and hold nothing (bounded memory when series come and go). */
  private sweep(now: number): void {
    this.lastSweep = now;
    for (const s of this.series.values()) {
      if (s.alerts.size === 0 && !this.absentTracked.has(s) && now - s.lastSeenAt > Math.max(STALE_SERIES_MS, 2 * s.windowMs)) this.series.delete(s.key);
    }
  }
}
