import { watch, type FSWatcher } from "node:fs";
import type { Clock, Logger } from "@vigil/shared";
import { FencedOut, type Fence } from "../cluster/ports.js";
import { CollectorError, CollectorErrors } from "../errors.js";
import { RuleEngine } from "./engine.js";
import { HostFences } from "./host-fences.js";
import { defaultRules } from "./defaults.js";
import { combineRules, loadRuleFiles } from "./rule-loader.js";
import { readApiRules, readInstances, readSilences, type ActiveSilence, type InvalidRow } from "./stored-rows.js";
import type { AlertRepository, HostLastSeen } from "./ports.js";
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
  /**
   * Collectors sharing a database evaluate host-down on one of them, the holder of this lease (followed on every
   * tick: its fence while held, null otherwise). Absent: this collector evaluates host-down from the start, alone.
   */
  hostDownLease?: HostDownLease;
}

/** The host-down lease as alerting follows it (cluster/lease-keeper.ts). */
export interface HostDownLease {
  held(): boolean;
  /** Its fencing number while held, else null. */
  fence(): number | null;
  /** Storage recorded a larger fencing number (the lease store lost its counters): take the lease again above it. */
  refence(recorded: number): Promise<void>;
}

/** The host-down lease's name, in Redis and in the fences its writes carry. */
export const HOST_DOWN_LEASE = "host-down";
/** How often the host-down evaluator reads every host's last contact from the database (any collector's). */
const HOSTS_REFRESH_MS = 2_000;

/** The transitions that tell notifications of alerts already open (after a restart, or a lease taken over). */
export function restoredEvents(instances: readonly AlertInstance[], nowMs: number): AlertEvent[] {
  return instances.map((i) => ({
    alertId: i.id,
    ruleName: i.ruleName,
    kind: i.state === "firing" ? "firing" : "pending",
    severity: i.severity,
    value: i.value,
    labels: i.labels,
    timeMs: nowMs,
    message: "restored",
    instance: i,
  }));
}

export interface RulesReport {
  rules: number;
  errors: string[];
}

/** Health of alerting, for /metrics. */
export interface AlertingStats {
  /** Rows skipped as invalid at the last read of each table. */
  skippedRows: { silences: number; alert_rules: number; alerts: number };
  /** Evaluations (a batch, a tick) that threw: logged, and evaluation goes on. */
  evaluationErrors: number;
  /** Transitions the store refused. */
  storeFailures: number;
  /** Writes refused because another collector had taken the host-down lease or the host (their fence was stale). */
  fencedWrites: number;
}

/**
 * Runs the rule engine for the collector: evaluates each committed batch as it arrives, ticks for absence and
 * `for` deadlines, applies silences, and persists every transition in order.
 */
export class Alerting {
  private engine!: RuleEngine;
  private silences: ActiveSilence[] = [];
  private saving: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private currentRules: Rule[] = [];
  readonly stats: AlertingStats = { skippedRows: { silences: 0, alert_rules: 0, alerts: 0 }, evaluationErrors: 0, storeFailures: 0, fencedWrites: 0 };
  /** Set while this collector evaluates host-down under the lease. */
  private hostDownFence: Fence | null = null;
  private readonly hostFences = new HostFences();
  private hostsRefresh: { atMs: number; running: boolean } = { atMs: Number.NEGATIVE_INFINITY, running: false };
  /** A takeover under way (its fence): one at a time, retried on the next tick when it fails. */
  private taking: number | null = null;

  constructor(private readonly opts: AlertingOptions) {}

  async start(hosts: readonly HostLastSeen[]): Promise<RulesReport> {
    const loaded = await this.loadRules();
    const open = readInstances(await this.opts.repo.loadOpen());
    this.skipped("alerts", open.invalid, "invalid stored alert skipped", "it stays as stored: fix or delete the row");
    this.engine = new RuleEngine({ rules: loaded.rules, clock: this.opts.clock, restore: open.instances });
    // Under the lease, host-down alerts are the holder's: this collector takes them when it gets the lease.
    if (this.opts.hostDownLease) this.engine.forgetHostDown();
    this.currentRules = loaded.rules;
    for (const h of hosts) this.engine.hostSeen(h.name, h.lastSeenMs, h.intervalMs);
    await this.refreshSilences();
    this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 1000);
    this.timer.unref();
    if (this.opts.rulesDir) {
      try {
        this.watcher = watch(this.opts.rulesDir, () => {
          clearTimeout(this.reloadTimer);
          this.reloadTimer = setTimeout(() => this.reloadInBackground(), 300);
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

  /** Whether some rule evaluates this metric's samples (the others need not be passed to `observe`). */
  watches(metric: string): boolean {
    return this.engine.watches(metric);
  }

  /** A committed batch from one host. Never throws: a failing evaluation is logged and counted, ingest goes on. */
  observe(host: string, intervalMs: number, points: readonly SamplePoint[], checks: readonly CheckRunInput[]): void {
    this.guarded("batch", () => {
      this.engine.hostSeen(host, this.opts.clock.now(), intervalMs);
      const events = [...this.engine.ingestSamples(points), ...(checks.length > 0 ? this.engine.ingestChecks(checks) : [])];
      if (events.length > 0) this.persist(this.withSilences(events));
    });
  }

  /**
   * Points the collector measures about itself (its storage figures), evaluated like a batch's; but they are no
   * report from their host: host_down rules do not watch the collector, and an agent on its host keeps its interval.
   */
  observeOwn(points: readonly SamplePoint[]): void {
    this.guarded("own points", () => {
      const events = this.engine.ingestSamples(points);
      if (events.length > 0) this.persist(this.withSilences(events));
    });
  }

  /**
   * Manual actions are stored before they are answered: when the store refuses, the caller gets the error and the
   * in-memory state is put back as it was. A repeated acknowledgement is no new event.
   */
  async acknowledge(id: string, by: string, comment: string): Promise<void> {
    const previous = this.engine.instance(id)?.acknowledged ?? null;
    const events = this.engine.acknowledge(id, { by, comment });
    await this.store(id, events, () => this.engine.undoAcknowledgement(id, events.at(-1)?.instance.acknowledged ?? null, previous));
  }

  async unacknowledge(id: string, by: string): Promise<void> {
    const previous = this.engine.instance(id)?.acknowledged ?? null;
    const events = this.engine.unacknowledge(id, by);
    await this.store(id, events, () => this.engine.undoAcknowledgement(id, null, previous));
  }

  async resolve(id: string, by: string): Promise<void> {
    const before = this.engine.instance(id);
    const events = this.engine.resolve(id, by);
    await this.store(id, events, () => before && this.engine.reinstate(before));
  }

  /**
   * This collector now holds the host-down lease: its fence is recorded first (older holders' writes are refused
   * from then on), then the stored host-down alerts are taken over and the hosts' last contact read, so nothing
   * fires twice or resolves wrongly; notifications learn of the open ones again (they ignore what they knew).
   */
  private async takeHostDown(fence: number): Promise<void> {
    const f: Fence = { lease: HOST_DOWN_LEASE, value: fence };
    await this.opts.repo.claimFence(f);
    const open = readInstances(await this.opts.repo.loadOpen());
    this.seeHosts(await this.opts.repo.hostsLastSeen());
    this.hostsRefresh.atMs = this.opts.clock.now();
    const adopted = this.engine.adoptHostDown(open.instances);
    this.hostDownFence = f;
    if (adopted.length > 0) this.opts.onTransitions?.(restoredEvents(adopted, this.opts.clock.now()));
  }

  /** The host-down lease is lost (or given up): another collector evaluates host-down and holds its alerts. */
  private dropHostDown(): void {
    this.hostDownFence = null;
    this.engine.forgetHostDown();
  }

  /** A host's stream is here now: alerts stored for it by another collector are taken over (failures are logged). */
  async takeHost(host: string): Promise<void> {
    try {
      await this.saving;
      // Counted up before the state is read: from here on the collector that had the host cannot write over it.
      this.hostFences.set(host, await this.opts.repo.claimHost(host));
      const open = readInstances(await this.opts.repo.loadOpen(host));
      this.guarded("take host", () => this.engine.adoptHost(host, open.instances));
    } catch (err) {
      this.opts.log.warn({ host, err: (err as Error).message }, "cannot read the host's stored alerts; evaluating it afresh");
    }
  }

  /** A host's stream went elsewhere: its alerts (host-down aside) and series are that collector's now. */
  releaseHost(host: string): void {
    this.hostFences.delete(host);
    this.guarded("release host", () => this.engine.forgetHost(host));
  }

  /** Whether this collector evaluates the alert (each host's alerts live on the collector holding its stream). */
  holds(id: string): boolean {
    return this.engine.holds(id);
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

  /** A reload nobody awaits (file watcher, SIGHUP): a failure (database down) is logged, never an unhandled rejection. */
  reloadInBackground(): void {
    this.reloadRules().catch((err: Error) => this.opts.log.error({ err: err.message }, "alert rules reload failed; keeping the running rules"));
  }

  /** Re-reads the silences; a stored silence whose matchers are invalid is skipped, logged with its id and counted. */
  async refreshSilences(): Promise<void> {
    const read = readSilences(await this.opts.repo.silences(this.opts.clock.now()));
    this.skipped("silences", read.invalid, "invalid stored silence skipped", "expire it: DELETE /api/v1/silences/ID");
    this.silences = read.silences;
    this.guarded("silences", () => this.persist(this.withSilences([])));
  }

  /** Resolves once every transition so far is stored (tests and shutdown). */
  flushed(): Promise<void> {
    return this.saving;
  }

  private tick(): void {
    const lease = this.opts.hostDownLease;
    this.guarded("tick", () => this.persist(this.withSilences(this.engine.tick({ hostDown: !lease }))));
    if (lease) this.followHostDownLease(lease);
  }

  /** Host-down on this collector only while it holds the lease, and only once it has taken the stored state over. */
  private followHostDownLease(lease: HostDownLease): void {
    const fence = lease.held() ? lease.fence() : null;
    if (fence === null) {
      if (this.hostDownFence) this.dropHostDown();
      return;
    }
    const current = this.hostDownFence;
    if (current?.value !== fence) {
      if (this.taking !== null) return;
      this.taking = fence;
      this.takeHostDown(fence)
        .catch((err: Error) =>
          err instanceof FencedOut && err.recorded > fence
            ? lease.refence(err.recorded)
            : this.opts.log.error({ err: err.message, fence }, "cannot take host-down over; retrying"),
        )
        .catch((err: Error) => this.opts.log.error({ err: err.message, fence }, "cannot take the host-down lease again; retrying"))
        .finally(() => (this.taking = null));
      return;
    }
    this.refreshHosts();
    this.guarded("host-down", () => this.persist(this.withSilences(this.engine.tickHostDown()), current));
  }

  /** Every host's last contact from the database, whichever collector it streams to; one read at a time. */
  private refreshHosts(): void {
    const now = this.opts.clock.now();
    if (this.hostsRefresh.running || now - this.hostsRefresh.atMs < HOSTS_REFRESH_MS) return;
    this.hostsRefresh = { atMs: now, running: true };
    this.opts.repo
      .hostsLastSeen()
      .then((hosts) => this.seeHosts(hosts))
      .catch((err: Error) => this.opts.log.warn({ err: err.message }, "cannot read the hosts' last contact; host-down uses what this collector saw"))
      .finally(() => (this.hostsRefresh.running = false));
  }

  private seeHosts(hosts: readonly HostLastSeen[]): void {
    for (const h of hosts) this.engine.hostSeen(h.name, h.lastSeenMs, h.intervalMs);
  }

  /** Timers and ingest observers must never throw: one bad rule or row would take the process down. */
  private guarded(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.stats.evaluationErrors++;
      this.opts.log.error({ err: (err as Error).message, stack: (err as Error).stack, during: what }, "alert evaluation failed");
    }
  }

  private skipped(table: keyof AlertingStats["skippedRows"], invalid: readonly InvalidRow[], msg: string, hint: string): void {
    this.stats.skippedRows[table] = invalid.length;
    for (const r of invalid) this.opts.log.error({ table, id: r.id, problem: r.problem, hint }, msg);
  }

  /** Brings every open instance's silenced flag in line with the silences active now. */
  private withSilences(events: AlertEvent[]): AlertEvent[] {
    const now = this.opts.clock.now();
    const active = this.silences.filter((s) => s.startsAt <= now && now < s.endsAt);
    const out = [...events];
    for (const inst of this.engine.instances()) {
      if (inst.state !== "pending" && inst.state !== "firing") continue;
      const ids = active.filter((s) => s.test(inst.labels)).map((s) => s.id);
      if (ids.join() !== inst.silencedBy.join()) out.push(...this.engine.setSilenced(inst.id, ids));
    }
    return out;
  }

  private persist(events: AlertEvent[], fence?: Fence): void {
    if (events.length === 0) return;
    this.opts.onTransitions?.(events);
    // Host-down writes carry the lease's fence; the rest their host's, where this collector took the host.
    for (const [f, group] of fence ? [[fence, events] as const] : this.hostFences.groups(events)) {
      this.saving = this.saving
        .then(() => this.opts.repo.save(group, f))
        .catch((err: Error) => {
          if (err instanceof FencedOut) return this.fencedOut(err, group.length);
          this.stats.storeFailures++;
          this.opts.log.error({ err: err.message, events: group.length }, "failed to store alert transitions");
        });
    }
  }

  /** A write under a stale fence stored nothing: the lease, or the host, is another collector's now. */
  private fencedOut(err: FencedOut, events: number): void {
    this.stats.fencedWrites++;
    if (err.fence.lease === HOST_DOWN_LEASE) {
      this.opts.log.warn({ lease: err.fence.lease, fence: err.fence.value, events }, "host-down write refused: another collector holds the lease now");
      if (this.hostDownFence?.value === err.fence.value) this.dropHostDown();
      return;
    }
    const host = this.hostFences.hostOf(err.fence);
    this.opts.log.warn({ host, fence: err.fence.value, events }, "alert write refused: the host's stream is on another collector now; letting its alerts go");
    if (host !== undefined) this.releaseHost(host);
  }

  /** Stores a manual action's events in order with every other transition; on failure undoes it and throws. */
  private async store(id: string, events: AlertEvent[], undo: () => void): Promise<void> {
    if (events.length === 0) return;
    const fence = this.hostFences.of(events[0]!.instance.labels.host);
    const saved = this.saving.then(() => this.opts.repo.save(events, fence));
    this.saving = saved.catch(() => undefined);
    try {
      await saved;
    } catch (err) {
      undo();
      if (err instanceof FencedOut) {
        this.fencedOut(err, events.length);
        throw new CollectorError(CollectorErrors.ALERT_HOLDER_UNAVAILABLE, `alert ${id}: its host moved to another collector meanwhile, so the change was not made; retry`);
      }
      this.stats.storeFailures++;
      this.opts.log.error({ err: (err as Error).message, alert: id, kind: events[0]!.kind }, "failed to store a manual alert change; undone");
      throw new CollectorError(CollectorErrors.STORAGE_UNAVAILABLE, `alert ${id}: the change could not be stored, so it was not made (see the collector's log)`, { cause: err });
    }
    this.opts.onTransitions?.(events);
  }

  private async loadRules(): Promise<{ rules: Rule[]; errors: string[] }> {
    const files = this.opts.rulesDir ? loadRuleFiles(this.opts.rulesDir) : { rules: [], errors: [] };
    const api = readApiRules(await this.opts.repo.apiRules());
    this.stats.skippedRows.alert_rules = api.invalid.length;
    const errors = [...files.errors, ...api.invalid.map((r) => `api rule ${JSON.stringify(r.id)}: ${r.problem}`)];
    const combined = combineRules(defaultRules(), [...files.rules, ...api.rules], this.opts.disabledDefaults ?? []);
    return { rules: combined.rules, errors: [...errors, ...combined.errors] };
  }
}
