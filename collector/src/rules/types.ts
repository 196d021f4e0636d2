// Plain-data types of the rule domain: validated rules (output of rule-schema.ts) and alert instances/events.
// Everything here is JSON-serializable so storage and the API can persist and serve it as is.
import type { Labels } from "@vigil/shared";

export type Severity = "warning" | "critical";
export type Op = ">" | ">=" | "<" | "<=";
export type ReduceFn = "avg" | "max" | "min" | "last";
export type CheckStatus = "healthy" | "degraded" | "unhealthy";

/** Label matchers, `label: pattern` (syntax in matchers.ts). */
export type Matchers = Record<string, string>;

export interface Level {
  op: Op;
  value: number;
  /** Hysteresis: once met, the level stays met until the value crosses back over `clear`. */
  clear: number | null;
}

/** A level set in an override; `null` switches the rule's level off for the matched series. */
export interface Override {
  match: Matchers;
  warning?: Level | null;
  critical?: Level | null;
}

/** `for` per severity, in ms: how long a level must hold before the alert fires at (or rises to) it. */
export interface LevelDurations {
  warning: number;
  critical: number;
}

interface RuleCommon {
  name: string;
  description: string | null;
  /** Extra labels on the alert. */
  labels: Labels;
  /** Template; null: the kind's default. */
  summary: string | null;
}

interface LevelledRule extends RuleCommon {
  metric: string;
  match: Matchers;
  warning: Level | null;
  critical: Level | null;
  /** Rule-wide clear level: applies to the lowest defined level that has no `clear` of its own. */
  clear: number | null;
  overrides: Override[];
  forMs: LevelDurations;
  keepFiringForMs: number;
}

export interface ThresholdRule extends LevelledRule {
  kind: "threshold";
  reduce: { fn: ReduceFn; overMs: number };
}

export interface RateRule extends LevelledRule {
  kind: "rate";
  windowMs: number;
  /** A decrease is a counter reset (the new value counts as the increase), not a negative rate. */
  counter: boolean;
}

export interface AbsentRule extends RuleCommon {
  kind: "absent";
  /** true: the host sent nothing; false: a series of `metric` matching `match` sent nothing. */
  hostDown: boolean;
  metric: string | null;
  match: Matchers;
  /** null (host_down only): max(3 × the host's interval, 30 s). */
  forMs: number | null;
  severity: Severity;
}

export interface CheckRule extends RuleCommon {
  kind: "check";
  /** Matcher on the check's name (`~.*`: any). */
  check: string;
  match: Matchers;
  severityFor: { unhealthy: Severity | "none"; degraded: Severity | "none" };
  forMs: LevelDurations;
  keepFiringForMs: number;
}

export type Rule = ThresholdRule | RateRule | AbsentRule | CheckRule;
export type RuleKind = Rule["kind"];

export type AlertState = "pending" | "firing" | "resolved";

export interface Acknowledgement {
  by: string;
  at: number;
  comment: string;
}

export interface AlertInstance {
  id: string;
  ruleName: string;
  ruleKind: RuleKind;
  /** Series labels (with `host`), the rule's labels, and `alertname`. */
  labels: Labels;
  /** Identity: rule + series (or rule + host, rule + host + check); stable across restarts. */
  key: string;
  state: AlertState;
  severity: Severity;
  /** Last evaluated value (reduced value, rate, seconds absent, or check status 0/1/2). */
  value: number;
  summary: string;
  /** When the condition started (pending start; last seen time for absence). */
  activeSince: number;
  firingSince: number | null;
  resolvedAt: number | null;
  lastEvalAt: number;
  /** Since when each level has held without a break (latched by `clear`); null: not held. */
  heldSince: { warning: number | null; critical: number | null };
  /** While firing: when the condition stopped holding (keep_firing_for counts from here). */
  clearSince: number | null;
  keepFiringUntil: number | null;
  acknowledged: Acknowledgement | null;
  silencedBy: string[];
}

export type AlertEventKind = "pending" | "firing" | "severity_changed" | "resolved" | "acknowledged" | "unacknowledged" | "silenced" | "unsilenced";

export interface AlertEvent {
  alertId: string;
  ruleName: string;
  kind: AlertEventKind;
  severity: Severity;
  value: number;
  labels: Labels;
  timeMs: number;
  message: string;
  /** Snapshot after the transition. A `resolved` event with `instance.firingSince === null` ends an alert that never fired. */
  instance: AlertInstance;
}

export interface SamplePoint {
  host: string;
  metric: string;
  labels: Labels;
  timeMs: number;
  value: number;
}

export interface CheckRunInput {
  host: string;
  check: string;
  kind: string;
  status: CheckStatus;
  timeMs: number;
  message: string;
}
