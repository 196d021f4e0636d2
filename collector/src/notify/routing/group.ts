// One aggregation group's clock-driven decisions: what each receiver must hear now (firing, resolved, repeat,
// acknowledged, escalation) given what it was already told. The state is plain JSON so it can be snapshotted.
import { createHash } from "node:crypto";
import type { Labels } from "@vigil/shared";
import type { AlertInstance, Severity } from "../../rules/types.js";
import type { Notification, NotificationKind, NotifiedAlert } from "../types.js";
import type { ResolvedRoute } from "./config.js";

/** What one receiver knows about a group. */
export interface ReceiverState {
  /** Alerts it was told are firing, with the severity it was told (a change is news). */
  told: Record<string, Severity>;
  /** Last notification that listed firing alerts: the repeat_interval counts from here. */
  lastSentAt: number | null;
  /** Content of the last notification and when: the same content is not sent twice within group_interval. */
  lastHash: string | null;
  lastHashAt: number | null;
  /** The current acknowledgement was notified (reset when the group is no longer fully acknowledged). */
  ackSent: boolean;
}

export interface GroupState {
  key: string;
  /** Route path (ResolvedRoute.path). */
  route: string;
  labels: Labels;
  alertIds: string[];
  /** First event since the last flush that may need notifying; group_wait counts from here. */
  changedAt: number | null;
  /** When the pending changes go out (null: nothing pending). */
  dueAt: number | null;
  lastNotifiedAt: number | null;
  /** Highest escalation tier reached; back to 0 when nothing notifiable fires. */
  tier: number;
  /** Since when something notifiable fires unacknowledged; escalation counts from here. */
  unackedSince: number | null;
  receivers: Record<string, ReceiverState>;
}

export interface EvalContext {
  now: number;
  alerts: ReadonlyMap<string, AlertInstance>;
  inhibited: ReadonlySet<string>;
  supportsAck: (receiver: string) => boolean;
  newId: () => string;
}

export function newGroup(key: string, route: string, labels: Labels): GroupState {
  return { key, route, labels, alertIds: [], changedAt: null, dueAt: null, lastNotifiedAt: null, tier: 0, unackedSince: null, receivers: {} };
}

export function toNotified(a: AlertInstance): NotifiedAlert {
  return {
    id: a.id,
    rule: a.ruleName,
    state: a.state,
    severity: a.severity,
    labels: { ...a.labels },
    summary: a.summary,
    value: a.value,
    activeSince: a.activeSince,
    firingSince: a.firingSince,
    resolvedAt: a.resolvedAt,
    acknowledged: a.acknowledged ? { ...a.acknowledged } : null,
  };
}

function contentHash(kind: NotificationKind, tier: number, alerts: readonly AlertInstance[]): string {
  const text = [kind, tier, ...alerts.map((a) => `${a.id}:${a.state}:${a.severity}:${a.acknowledged ? 1 : 0}`)].join("|");
  return createHash("sha256").update(text).digest("hex").slice(0, 24);
}

const unique = (xs: readonly string[]): string[] => [...new Set(xs)];

/** The lowest tier a receiver belongs to (0 when it belongs to none, e.g. after a config change). */
function tierOf(route: ResolvedRoute, receiver: string): number {
  const i = route.tiers.findIndex((t) => t.receivers.includes(receiver));
  return i < 0 ? 0 : i;
}

/** Decides this group's notifications at `ctx.now` and updates its state as if they were sent. */
export function evaluateGroup(g: GroupState, route: ResolvedRoute, ctx: EvalContext): Notification[] {
  const { now } = ctx;
  const members = g.alertIds.flatMap((id) => ctx.alerts.get(id) ?? []);
  const byId = new Map(members.map((a) => [a.id, a]));
  // Notifiable: firing, not silenced, not inhibited. Pending alerts never notify.
  const firing = members.filter((a) => a.state === "firing" && a.silencedBy.length === 0 && !ctx.inhibited.has(a.id));
  const acked = firing.length > 0 && firing.every((a) => a.acknowledged !== null);
  const active = unique(route.tiers.slice(0, g.tier + 1).flatMap((t) => t.receivers));
  const out: Notification[] = [];
  const st = (name: string): ReceiverState => (g.receivers[name] ??= { told: {}, lastSentAt: null, lastHash: null, lastHashAt: null, ackSent: false });

  const emit = (name: string, kind: NotificationKind, tier: number, alerts: AlertInstance[]): void => {
    const s = st(name);
    const hash = contentHash(kind, tier, alerts);
    if (s.lastHash === hash && s.lastHashAt !== null && now - s.lastHashAt < route.groupIntervalMs) return;
    s.lastHash = hash;
    s.lastHashAt = now;
    out.push({ id: ctx.newId(), receiver: name, groupKey: g.key, groupLabels: { ...g.labels }, kind, tier, alerts: alerts.map(toNotified), createdAt: now });
  };
  const markTold = (name: string, shown: readonly AlertInstance[], resolved: readonly AlertInstance[]): void => {
    const s = st(name);
    for (const a of shown) s.told[a.id] = a.severity;
    for (const a of resolved) delete s.told[a.id];
    if (shown.length > 0) s.lastSentAt = now;
  };

  // News per receiver: an alert it was not told fires (or at another severity), or one it was told fires resolved.
  // A resolution counts even while the alert is silenced or inhibited: the receiver's incident must close.
  const diffs: { name: string; shown: AlertInstance[]; resolved: AlertInstance[] }[] = [];
  for (const name of unique([...active, ...Object.keys(g.receivers)])) {
    const told = g.receivers[name]?.told ?? {};
    const isActive = active.includes(name);
    const resolved = Object.keys(told).flatMap((id) => (byId.get(id)?.state === "resolved" ? [byId.get(id)!] : []));
    const fired = isActive && firing.some((a) => told[a.id] !== a.severity);
    // Receivers no longer in the active tiers hear only about the alerts they already know.
    if (fired || resolved.length > 0) diffs.push({ name, shown: firing.filter((a) => isActive || told[a.id] !== undefined), resolved });
  }
  if (diffs.length === 0) {
    g.dueAt = null;
    g.changedAt = null;
  } else {
    // A new group waits group_wait (to batch a burst); later changes also wait group_interval after the last flush.
    g.dueAt ??= Math.max((g.changedAt ?? now) + route.groupWaitMs, g.lastNotifiedAt === null ? 0 : g.lastNotifiedAt + route.groupIntervalMs);
    if (now >= g.dueAt) {
      for (const d of diffs) {
        emit(d.name, d.shown.length > 0 ? "firing" : "resolved", tierOf(route, d.name), [...d.shown, ...d.resolved]);
        markTold(d.name, d.shown, d.resolved);
      }
      g.lastNotifiedAt = now;
      g.dueAt = null;
      g.changedAt = null;
    }
  }
  const pending = new Set(g.dueAt === null ? [] : diffs.map((d) => d.name));

  // Repeats: unchanged, still firing, not acknowledged; skipped while news is about to go out anyway.
  if (firing.length > 0 && !acked) {
    for (const name of active) {
      const s = g.receivers[name];
      if (!s || pending.has(name) || s.lastSentAt === null || now < s.lastSentAt + route.repeatIntervalMs) continue;
      if (!firing.some((a) => s.told[a.id] !== undefined)) continue;
      emit(name, "repeat", tierOf(route, name), firing);
      markTold(name, firing, []);
    }
  }

  // Acknowledgement: once every notifiable alert is acknowledged, tell the receivers that knew and can take it.
  for (const [name, s] of Object.entries(g.receivers)) {
    if (!acked) s.ackSent = false;
    else if (!s.ackSent && ctx.supportsAck(name) && firing.some((a) => s.told[a.id] !== undefined)) {
      emit(name, "acknowledged", tierOf(route, name), firing);
      s.ackSent = true;
    }
  }

  // Escalation: the next tier once the group has fired unacknowledged for that tier's `after`.
  if (firing.length === 0) {
    g.tier = 0;
    g.unackedSince = null;
  } else if (acked) g.unackedSince = null;
  else {
    g.unackedSince ??= now;
    for (let next = route.tiers[g.tier + 1]; next && now >= g.unackedSince + next.afterMs; next = route.tiers[g.tier + 1]) {
      g.tier++;
      for (const name of unique(next.receivers)) {
        emit(name, "escalation", g.tier, firing);
        markTold(name, firing, []);
      }
    }
  }
  return out;
}

/** Drops resolved alerts no receiver still has to hear about; true when the group is empty and can go. */
export function pruneGroup(g: GroupState, alerts: ReadonlyMap<string, AlertInstance>): boolean {
  const told = (id: string): boolean => Object.values(g.receivers).some((s) => s.told[id] !== undefined);
  g.alertIds = g.alertIds.filter((id) => {
    const a = alerts.get(id);
    return a !== undefined && (a.state !== "resolved" || told(id));
  });
  const kept = new Set(g.alertIds);
  for (const s of Object.values(g.receivers)) for (const id of Object.keys(s.told)) if (!kept.has(id)) delete s.told[id];
  return g.alertIds.length === 0;
}
