import { watch, type FSWatcher } from "node:fs";
import type { Clock, Logger } from "@vigil/shared";
import { RuleEngine } from "./engine.js";
import { defaultRules } from "./defaults.js";
import { matchesSilence } from "./matchers.js";
import { combineRules, loadRuleFiles } from "./rule-loader.js";
import { validateRule } from "./rule-schema.js";
import type { AlertRepository, HostLastSeen, Silence } from "./ports.js";
import type { AlertEvent, AlertInstance, CheckRunInput, Rule, SamplePoint } from "./types.js";

export interface AlertingOptions {
  repo: AlertRepository;
  clock: Clock;
  log: Logger;
  /** Directory of rule files (YAML); optional. */
  rulesDir?: string;
  /** Default rules turned off by name. */
  disabledDefaults?: readonly string[];
  tickMs?: number;
  /** Every transition, as it happens (notifications). */
  onTransitions?: (events: readonly AlertEvent[]) => void;
}

export interface RulesReport {
  rules: number;
  errors: string[];
}

/**
 * Runs the rule engine for the collector: evaluates each committed batch as it arrives, ticks for absence and
 * `for` deadlines, applies silences, and persists every transition in order.
 */
export class Alerting {
  private engine!: RuleEngine;
  private silences: Silence[] = [];
  private saving: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private currentRules: Rule[] = [];

  constructor(private readonly opts: AlertingOptions) {}

  async start(hosts: readonly HostLastSeen[]): Promise<RulesReport> {
    const loaded = await this.loadRules();
    this.engine = new RuleEngine({ rules: loaded.rules, clock: this.opts.clock, restore: await this.opts.repo.loadOpen() });
    this.currentRules = loaded.rules;
    for (const h of hosts) this.engine.hostSeen(h.name, h.lastSeenMs, h.intervalMs);
    await this.refreshSilences();
    this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 1000);
    this.timer.unref();
    if (this.opts.rulesDir) {
      try {
        this.watcher = watch(this.opts.rulesDir, () => {
          clearTimeout(this.reloadTimer);
          this.reloadTimer = setTimeout(() => void this.reloadRules(), 300);
        });
      } catch (err) {
        this.opts.log.warn({ dir: this.opts.rulesDir, err: (err as Error).message }, "cannot watch the rules directory; reload with SIGHUP");
      }
    }
    return { rules: loaded.rules.length, errors: loaded.errors };
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.reloadTimer);
    this.watcher?.close();
    await this.saving;
  }

  /** A committed batch from one host. */
  observe(host: string, intervalMs: number, points: readonly SamplePoint[], checks: readonly CheckRunInput[]): void {
    this.engine.hostSeen(host, this.opts.clock.now(), intervalMs);
    const events = [...this.engine.ingestSamples(points), ...(checks.length > 0 ? this.engine.ingestChecks(checks) : [])];
    if (events.length > 0) this.persist(this.withSilences(events));
  }

  acknowledge(id: string, by: string, comment?: string): AlertInstance {
    this.persist(this.engine.acknowledge(id, { by, comment }));
    return this.engine.instance(id)!;
  }

  unacknowledge(id: string, by: string): AlertInstance {
    this.persist(this.engine.unacknowledge(id, by));
    return this.engine.instance(id)!;
  }

  resolve(id: string, by: string): void {
    this.persist(this.engine.resolve(id, by));
  }

  /** Pending and firing instances now. */
  openInstances(): AlertInstance[] {
    return this.engine.instances().filter((i) => i.state === "pending" || i.state === "firing");
  }

  rules(): readonly Rule[] {
    return this.currentRules;
  }

  /** Re-reads rule files and API rules; invalid files are reported and skipped, state is kept. */
  async reloadRules(): Promise<RulesReport> {
    const loaded = await this.loadRules();
    this.currentRules = loaded.rules;
    this.persist(this.engine.setRules(loaded.rules));
    for (const e of loaded.errors) this.opts.log.error({ err: e }, "invalid alert rule");
    this.opts.log.info({ rules: loaded.rules.length, errors: loaded.errors.length }, "alert rules loaded");
    return { rules: loaded.rules.length, errors: loaded.errors };
  }

  async refreshSilences(): Promise<void> {
    this.silences = await this.opts.repo.silences(this.opts.clock.now());
    this.persist(this.withSilences([]));
  }

  /** Resolves once every transition so far is stored (tests and shutdown). */
  flushed(): Promise<void> {
    return this.saving;
  }

  private tick(): void {
    const events = this.engine.tick();
    this.persist(this.withSilences(events));
  }

  /** Brings every open instance's silenced flag in line with the silences active now. */
  private withSilences(events: AlertEvent[]): AlertEvent[] {
    const now = this.opts.clock.now();
    const active = this.silences.filter((s) => s.startsAt <= now && now < s.endsAt);
    const out = [...events];
    for (const inst of this.engine.instances()) {
      if (inst.state !== "pending" && inst.state !== "firing") continue;
      const ids = active.filter((s) => matchesSilence(inst.labels, s.matchers)).map((s) => s.id);
      if (ids.join() !== inst.silencedBy.join()) out.push(...this.engine.setSilenced(inst.id, ids));
    }
    return out;
  }

  private persist(events: AlertEvent[]): void {
    if (events.length === 0) return;
    this.opts.onTransitions?.(events);
    this.saving = this.saving
      .then(() => this.opts.repo.save(events))
      .catch((err: Error) => this.opts.log.error({ err: err.message, events: events.length }, "failed to store alert transitions"));
  }

  private async loadRules(): Promise<{ rules: Rule[]; errors: string[] }> {
    const files = this.opts.rulesDir ? loadRuleFiles(this.opts.rulesDir) : { rules: [], errors: [] };
    const api: Rule[] = [];
    const errors = [...files.errors];
    for (const r of await this.opts.repo.apiRules()) {
      const v = validateRule(r.spec);
      if (v.ok) api.push(v.rule);
      else errors.push(`api rule ${JSON.stringify(r.name)}: ${v.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
    }
    const combined = combineRules(defaultRules(), [...files.rules, ...api], this.opts.disabledDefaults ?? []);
    return { rules: combined.rules, errors: [...errors, ...combined.errors] };
  }
}
