// Absence rules, evaluated on ticks: a host that sent nothing (host_down) or a series that sent nothing (metric).
import type { Labels } from "@vigil/shared";
import type { CompiledRule } from "./compile.js";
import { instanceKey, type AlertContext, type EngineAlert, type SeriesState } from "./series.js";
import * as sm from "./state-machine.js";
import type { AlertEvent } from "./types.js";

export interface HostState {
  lastSeenMs: number;
  intervalMs: number;
}

export interface AbsenceContext extends AlertContext {
  hosts: Map<string, HostState>;
}

const NO_LABELS: Labels = {};
export const MIN_HOST_DOWN_MS = 30_000;

const iso = (ms: number): string => new Date(ms).toISOString();

function fireAbsent(ctx: AbsenceContext, r: CompiledRule, a: EngineAlert, lastSeen: number, now: number, out: AlertEvent[]): void {
  a.data.activeSince = lastSeen;
  a.extra = { last_seen: iso(lastSeen) };
  sm.fire(a, r.kind === "absent" ? r.severity : "critical", now, out);
  ctx.register(a);
}

export function hostDownTick(ctx: AbsenceContext, rules: readonly CompiledRule[], now: number, out: AlertEvent[]): void {
  for (const [host, h] of ctx.hosts) {
    for (const r of rules) {
      if (r.kind !== "absent" || !r.matcher(host, NO_LABELS)) continue;
      const forMs = r.absentForMs ?? Math.max(3 * h.intervalMs, MIN_HOST_DOWN_MS);
      const key = instanceKey(r.name, `host{host=${JSON.stringify(host)}}`);
      const a = ctx.alertsByKey.get(key);
      const silent = now - h.lastSeenMs;
      if (silent >= forMs) {
        if (a) {
          a.data.value = silent / 1000;
          a.data.lastEvalAt = now;
        } else fireAbsent(ctx, r, ctx.create(r, key, { ...r.labels, host, alertname: r.name }, "", silent / 1000, now, null), h.lastSeenMs, now, out);
      } else if (a) {
        a.data.value = Math.max(0, silent / 1000);
        sm.resolveAlert(a, now, `host ${host} reports again (last seen ${iso(h.lastSeenMs)})`, out);
        ctx.drop(a);
      }
    }
  }
}

export function absentTick(ctx: AbsenceContext, tracked: ReadonlySet<SeriesState>, now: number, out: AlertEvent[]): void {
  for (const s of tracked) {
    for (const r of s.rules) {
      if (r.kind !== "absent" || r.absentForMs === null) continue;
      const silent = now - s.lastSeenAt;
      const a = s.alerts.get(r.name);
      if (a) {
        a.data.value = silent / 1000;
        a.data.lastEvalAt = now;
      } else if (silent >= r.absentForMs) {
        const labels = { ...s.labels, ...r.labels, host: s.host, alertname: r.name };
        fireAbsent(ctx, r, ctx.create(r, instanceKey(r.name, s.key), labels, s.metric, silent / 1000, now, s), s.lastSeenAt, now, out);
      }
    }
  }
}
