// Rules compiled for the hot path: matchers as closures, ops as small ints, levels per override precomputed.
import type { Labels } from "@vigil/shared";
import { compileMatchers, type SeriesMatcher } from "./matchers.js";
import { resolveLevels } from "./rule-schema.js";
import { compileTemplate, type CompiledTemplate } from "./template.js";
import type { Level, LevelDurations, Op, ReduceFn, Rule, Severity } from "./types.js";

const OPS: Record<Op, number> = { ">": 0, ">=": 1, "<": 2, "<=": 3 };

export interface CompiledLevel {
  op: number;
  value: number;
  /** Equal to value without hysteresis. */
  clear: number;
}

export interface CompiledLevels {
  warning: CompiledLevel | null;
  critical: CompiledLevel | null;
}

interface Base {
  name: string;
  rule: Rule;
  labels: Labels;
  summary: CompiledTemplate;
  matcher: SeriesMatcher;
  /** The severities this rule can fire at. */
  hasWarning: boolean;
  hasCritical: boolean;
  forMs: LevelDurations;
  keepFiringForMs: number;
}

export interface CompiledLevelled extends Base {
  kind: "threshold" | "rate";
  metric: string;
  levels: CompiledLevels;
  overrides: { matcher: SeriesMatcher; levels: CompiledLevels }[];
  reduceFn: ReduceFn;
  /** How far back a value reads (reduce.over or the rate window); 0: only the last point. */
  windowMs: number;
  counter: boolean;
}

export interface CompiledAbsent extends Base {
  kind: "absent";
  hostDown: boolean;
  metric: string;
  absentForMs: number | null;
  severity: Severity;
}

export interface CompiledCheck extends Base {
  kind: "check";
  severityFor: { unhealthy: Severity | "none"; degraded: Severity | "none" };
}

export type CompiledRule = CompiledLevelled | CompiledAbsent | CompiledCheck;

const DEFAULT_SUMMARY: Record<string, string> = {
  threshold: "{{metric}} on {{host}} is {{value}}",
  rate: "{{metric}} on {{host}} changes by {{value}}/s",
  host_down: "Host {{host}} has sent nothing since {{last_seen}}",
  absent: "{{metric}} on {{host}} has sent nothing since {{last_seen}}",
  check: "Check {{check}} on {{host}} is {{status}}: {{message}}",
};

function level(l: Level | null): CompiledLevel | null {
  return l ? { op: OPS[l.op], value: l.value, clear: l.clear ?? l.value } : null;
}

function levels(l: { warning: Level | null; critical: Level | null }): CompiledLevels {
  return { warning: level(l.warning), critical: level(l.critical) };
}

export function compileRule(rule: Rule): CompiledRule {
  const summaryKey = rule.kind === "absent" && rule.hostDown ? "host_down" : rule.kind;
  const base = { name: rule.name, rule, labels: rule.labels, summary: compileTemplate(rule.summary ?? DEFAULT_SUMMARY[summaryKey]!) };
  switch (rule.kind) {
    case "threshold":
    case "rate": {
      const lv = levels(resolveLevels(rule));
      const overrides = rule.overrides.map((o) => ({ matcher: compileMatchers(o.match), levels: levels(resolveLevels(rule, o)) }));
      const all = [lv, ...overrides.map((o) => o.levels)];
      return {
        ...base,
        kind: rule.kind,
        metric: rule.metric,
        matcher: compileMatchers(rule.match),
        hasWarning: all.some((l) => l.warning !== null),
        hasCritical: all.some((l) => l.critical !== null),
        forMs: rule.forMs,
        keepFiringForMs: rule.keepFiringForMs,
        levels: lv,
        overrides,
        reduceFn: rule.kind === "threshold" ? rule.reduce.fn : "last",
        windowMs: rule.kind === "threshold" ? rule.reduce.overMs : rule.windowMs,
        counter: rule.kind === "rate" ? rule.counter : false,
      };
    }
    case "absent":
      return {
        ...base,
        kind: "absent",
        matcher: compileMatchers(rule.match),
        hasWarning: rule.severity === "warning",
        hasCritical: rule.severity === "critical",
        forMs: { warning: 0, critical: 0 },
        keepFiringForMs: 0,
        hostDown: rule.hostDown,
        metric: rule.metric ?? "",
        absentForMs: rule.forMs,
        severity: rule.severity,
      };
    case "check": {
      const sev = Object.values(rule.severityFor);
      const match = { ...rule.match, check: rule.check };
      return {
        ...base,
        kind: "check",
        matcher: compileMatchers(match),
        hasWarning: sev.includes("warning"),
        hasCritical: sev.includes("critical"),
        forMs: rule.forMs,
        keepFiringForMs: rule.keepFiringForMs,
        severityFor: rule.severityFor,
      };
    }
  }
}

function meets(op: number, a: number, b: number): boolean {
  switch (op) {
    case 0:
      return a > b;
    case 1:
      return a >= b;
    case 2:
      return a < b;
    default:
      return a <= b;
  }
}

export const MET_WARNING = 1;
export const MET_CRITICAL = 2;

/**
 * Which levels `value` meets, as a bit mask. A level already held stays met until the value crosses its clear
 * level (hysteresis). Meeting critical also counts as meeting warning ("at least warning").
 */
export function levelsMet(lv: CompiledLevels, value: number, heldWarning: boolean, heldCritical: boolean): number {
  const c = lv.critical;
  const critical = c !== null && meets(c.op, value, heldCritical ? c.clear : c.value);
  const w = lv.warning;
  const warning = w !== null && (critical || meets(w.op, value, heldWarning ? w.clear : w.value));
  return (warning ? MET_WARNING : 0) | (critical ? MET_CRITICAL : 0);
}
