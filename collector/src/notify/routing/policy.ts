// The notification policy engine: Alertmanager's dispatcher (routes, groups, group_wait/interval, repeats,
// inhibition) plus escalation tiers, acknowledgement notices and resolved notices for silenced alerts.
// Pure and clock-driven: alert events in, `tick()` out; the caller delivers, deduplicates and persists.
import { randomUUID } from "node:crypto";
import { VigilError, type Clock, type Labels } from "@vigil/shared";
import { CollectorErrors } from "../../errors.js";
import type { AlertEvent, AlertInstance } from "../../rules/types.js";
import type { Notification } from "../types.js";
import type { PolicyConfig } from "./config.js";
import { evaluateGroup, newGroup, pruneGroup, type GroupState } from "./group.js";
import { Router } from "./router.js";

/** Everything a restart needs to continue group timers, repeats and escalation (plain JSON). */
export interface PolicySnapshot {
  version: 1;
  /** Latest state of every alert the policy still tracks (inhibition sources included). */
  alerts: AlertInstance[];
  groups: GroupState[];
}

export interface NotificationPolicyOptions {
  config: PolicyConfig;
  clock: Clock;
  /** Whether a receiver can be told about acknowledgements (Receiver.supportsAck). */
  receiverSupportsAck: (name: string) => boolean;
  newId?: () => string;
  restore?: PolicySnapshot;
}

export class NotificationPolicy {
  private readonly router: Router;
  private readonly clock: Clock;
  private readonly supportsAck: (name: string) => boolean;
  private readonly newId: () => string;
  private readonly alerts = new Map<string, AlertInstance>();
  private readonly groups = new Map<string, GroupState>();

  constructor(options: NotificationPolicyOptions) {
    this.router = new Router(options.config);
    this.clock = options.clock;
    this.supportsAck = options.receiverSupportsAck;
    this.newId = options.newId ?? randomUUID;
    if (options.restore) this.load(options.restore);
  }

  /** Takes the alert engine's transitions; the state used is each event's `instance` (snapshot after it). */
  onAlertEvents(events: readonly AlertEvent[]): void {
    for (const e of events) this.track(structuredClone(e.instance), e.timeMs);
  }

  /** Notifications due now (call from a timer, e.g. every second). */
  tick(): Notification[] {
    const now = this.clock.now();
    const ctx = { now, alerts: this.alerts, inhibited: this.router.inhibited(this.alerts.values()), supportsAck: this.supportsAck, newId: this.newId };
    const out: Notification[] = [];
    const members = new Set<string>();
    for (const [key, g] of this.groups) {
      const route = this.router.byPath.get(g.route);
      if (route) out.push(...evaluateGroup(g, route, ctx));
      if (!route || pruneGroup(g, this.alerts)) this.groups.delete(key);
      else for (const id of g.alertIds) members.add(id);
    }
    // Resolved alerts are kept only while a group still owes someone their resolution.
    for (const [id, a] of this.alerts) if (a.state === "resolved" && !members.has(id)) this.alerts.delete(id);
    return out;
  }

  /** The receivers an alert with these labels is first sent to (tier 0 of every route it takes). */
  routesFor(labels: Labels): string[] {
    return [...new Set(this.router.routes(labels).flatMap((r) => r.tiers[0]?.receivers ?? []))];
  }

  state(): PolicySnapshot {
    return structuredClone({ version: 1, alerts: [...this.alerts.values()], groups: [...this.groups.values()] });
  }

  private track(inst: AlertInstance, at: number): void {
    this.alerts.set(inst.id, inst);
    // Routes are evaluated on every event (severity may be matched on); resolution keeps the groups it had.
    const keys = inst.state === "resolved" ? null : new Set<string>();
    if (keys) {
      for (const ref of this.router.groupsOf(inst)) {
        keys.add(ref.key);
        let g = this.groups.get(ref.key);
        if (!g) this.groups.set(ref.key, (g = newGroup(ref.key, ref.route.path, ref.labels)));
        if (!g.alertIds.includes(inst.id)) g.alertIds.push(inst.id);
      }
    }
    for (const g of this.groups.values()) {
      if (!g.alertIds.includes(inst.id)) continue;
      // A group the alert no longer routes to keeps it only if a receiver there knows it fires (to hear the end).
      const told = Object.values(g.receivers).some((s) => s.told[inst.id] !== undefined);
      if (keys && !keys.has(g.key) && !told) g.alertIds = g.alertIds.filter((id) => id !== inst.id);
      else g.changedAt ??= at;
    }
  }

  private load(s: PolicySnapshot): void {
    if (s.version !== 1) throw new VigilError(CollectorErrors.BAD_CONFIG, `notification policy snapshot: unsupported version ${JSON.stringify(s.version)}`);
    const snap = structuredClone(s);
    for (const a of snap.alerts) this.alerts.set(a.id, a);
    // Groups of routes that no longer exist are dropped; their alerts are re-routed below like new ones.
    for (const g of snap.groups) if (this.router.byPath.has(g.route)) this.groups.set(g.key, g);
    for (const a of snap.alerts) if (a.state !== "resolved") this.track(a, this.clock.now());
  }
}
