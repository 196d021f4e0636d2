// The per-alert state machine: pending → firing → resolved, severity changes, acknowledgement and silence flags.
// All state lives in the plain AlertInstance (so a restored instance continues exactly); `heldSince` is the input:
// the engine updates it from each evaluation, and `settle` derives the transitions from it and the time.
import { formatDuration } from "@vigil/shared";
import type { CompiledRule } from "./compile.js";
import { MET_CRITICAL, MET_WARNING } from "./compile.js";
import type { AlertEvent, AlertEventKind, AlertInstance, Severity } from "./types.js";

export interface LiveAlert {
  data: AlertInstance;
  rule: CompiledRule;
  metric: string;
  /** Template values besides labels and value: status, message, last_seen. */
  extra: Record<string, string>;
}

export function snapshot(d: AlertInstance): AlertInstance {
  return {
    ...d,
    labels: { ...d.labels },
    heldSince: { ...d.heldSince },
    acknowledged: d.acknowledged ? { ...d.acknowledged } : null,
    silencedBy: [...d.silencedBy],
  };
}

export function emit(a: Pick<LiveAlert, "data">, kind: AlertEventKind, now: number, message: string, out: AlertEvent[]): void {
  const d = a.data;
  out.push({ alertId: d.id, ruleName: d.ruleName, kind, severity: d.severity, value: d.value, labels: { ...d.labels }, timeMs: now, message, instance: snapshot(d) });
}

export function render(a: LiveAlert): void {
  const d = a.data;
  d.summary = a.rule.summary({ rule: d.ruleName, metric: a.metric, value: d.value, severity: d.severity, labels: d.labels, extra: a.extra });
}

export function newInstance(id: string, rule: CompiledRule, key: string, labels: Record<string, string>, value: number, now: number): AlertInstance {
  return {
    id,
    ruleName: rule.name,
    ruleKind: rule.rule.kind,
    labels,
    key,
    state: "pending",
    severity: rule.hasCritical && !rule.hasWarning ? "critical" : "warning",
    value,
    summary: "",
    activeSince: now,
    firingSince: null,
    resolvedAt: null,
    lastEvalAt: now,
    heldSince: { warning: null, critical: null },
    clearSince: null,
    keepFiringUntil: null,
    acknowledged: null,
    silencedBy: [],
  };
}

/** Records an evaluation: which levels are met (mask from levelsMet) at `value`, then applies the transitions. */
export function observe(a: LiveAlert, mask: number, value: number, now: number, out: AlertEvent[]): void {
  const d = a.data;
  const h = d.heldSince;
  h.warning = mask & MET_WARNING ? (h.warning ?? now) : null;
  h.critical = mask & MET_CRITICAL ? (h.critical ?? now) : null;
  d.value = value;
  d.lastEvalAt = now;
  settle(a, now, out);
}

export function resolveAlert(a: Pick<LiveAlert, "data">, now: number, message: string, out: AlertEvent[]): void {
  const d = a.data;
  d.state = "resolved";
  d.resolvedAt = now;
  d.keepFiringUntil = null;
  emit(a, "resolved", now, message, out);
}

/** Fires now at `severity` (absence rules skip pending: their `for` is the absence itself). */
export function fire(a: LiveAlert, severity: Severity, now: number, out: AlertEvent[]): void {
  const d = a.data;
  d.state = "firing";
  d.severity = severity;
  d.firingSince = now;
  render(a);
  emit(a, "firing", now, d.summary, out);
}

/** Transitions implied by `heldSince` at `now`: also what a tick runs, since held levels are assumed to continue. */
export function settle(a: LiveAlert, now: number, out: AlertEvent[]): void {
  const d = a.data;
  const r = a.rule;
  const hw = d.heldSince.warning;
  const hc = d.heldSince.critical;
  if (hw === null && hc === null) {
    if (d.state === "pending") return resolveAlert(a, now, `condition cleared before firing (pending since ${new Date(d.activeSince).toISOString()})`, out);
    if (r.keepFiringForMs <= 0) return resolveAlert(a, now, "condition cleared", out);
    if (d.clearSince === null) {
      d.clearSince = now;
      d.keepFiringUntil = now + r.keepFiringForMs;
    }
    if (now >= d.keepFiringUntil!) resolveAlert(a, now, `condition cleared and stayed clear for ${formatDuration(r.keepFiringForMs)} (keep_firing_for)`, out);
    return;
  }
  d.clearSince = null;
  d.keepFiringUntil = null;
  if (d.state === "pending") {
    const established: Severity | null = hc !== null && now - hc >= r.forMs.critical ? "critical" : hw !== null && now - hw >= r.forMs.warning ? "warning" : null;
    if (established) fire(a, established, now, out);
    else d.severity = hc !== null ? "critical" : "warning";
    return;
  }
  // Firing: a rise waits for the higher level's `for`; a fall is immediate.
  const target: Severity = hc !== null && (d.severity === "critical" || now - hc >= r.forMs.critical) ? "critical" : hw !== null ? "warning" : d.severity;
  if (target === d.severity) return;
  const from = d.severity;
  d.severity = target;
  render(a);
  const rose = target === "critical";
  emit(a, "severity_changed", now, `severity ${rose ? "rose" : "fell"} from ${from} to ${target}: ${d.summary}`, out);
  if (rose && d.acknowledged) {
    const by = d.acknowledged.by;
    d.acknowledged = null;
    emit(a, "unacknowledged", now, `acknowledgement by ${by} cleared: severity rose to ${target}`, out);
  }
}

/** First evaluation of a new instance: pending (or firing at once with `for: 0s`). */
export function start(a: LiveAlert, mask: number, value: number, now: number, out: AlertEvent[]): void {
  const d = a.data;
  d.heldSince.warning = mask & MET_WARNING ? now : null;
  d.heldSince.critical = mask & MET_CRITICAL ? now : null;
  d.severity = mask & MET_CRITICAL ? "critical" : "warning";
  render(a);
  const wait = mask & MET_CRITICAL ? a.rule.forMs.critical : a.rule.forMs.warning;
  if (wait > 0) emit(a, "pending", now, `${d.summary} (fires after ${formatDuration(wait)} if it lasts)`, out);
  settle(a, now, out);
}

/** Acknowledges; an alert acknowledged already keeps its acknowledgement (a repeat is no new event). */
export function acknowledge(a: LiveAlert, by: string, comment: string, now: number, out: AlertEvent[]): void {
  if (a.data.acknowledged) return;
  a.data.acknowledged = { by, at: now, comment };
  emit(a, "acknowledged", now, comment ? `acknowledged by ${by}: ${comment}` : `acknowledged by ${by}`, out);
}

export function unacknowledge(a: LiveAlert, by: string, now: number, out: AlertEvent[]): void {
  if (!a.data.acknowledged) return;
  a.data.acknowledged = null;
  emit(a, "unacknowledged", now, `unacknowledged by ${by}`, out);
}

export function setSilenced(a: LiveAlert, silenceIds: readonly string[], now: number, out: AlertEvent[]): void {
  const was = a.data.silencedBy.length > 0;
  a.data.silencedBy = [...silenceIds];
  if (!was && silenceIds.length > 0) emit(a, "silenced", now, `silenced by ${silenceIds.join(", ")}`, out);
  else if (was && silenceIds.length === 0) emit(a, "unsilenced", now, "no silence covers it any more", out);
}
