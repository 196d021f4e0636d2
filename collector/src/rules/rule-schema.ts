// Validation of one rule as written in YAML (snake_case) into the plain `Rule` the engine runs (camelCase, ms).
// Problems carry the field's path so the loader can say file, rule and field.
import { z } from "zod";
import { parseDuration, formatDuration } from "@vigil/shared";
import { textProblem } from "../text-input.js";
import { labelNameProblem, matcherValueProblem, MAX_MATCHERS } from "./matcher-set.js";
import { templateProblem } from "./template.js";
import type { Level, LevelDurations, Matchers, Override, Rule, RuleKind, Severity } from "./types.js";

export interface RuleProblem {
  /** Dotted field path inside the rule ("warning.value", "overrides[0].match.host"); "" for the rule as a whole. */
  path: string;
  message: string;
}

export const RULE_KINDS: readonly RuleKind[] = ["threshold", "rate", "absent", "check"];
const DAY = 86_400_000;

export function show(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

const TYPE_NAMES: Record<string, string> = { number: "a number", string: "a string", object: "a mapping", array: "a list", boolean: "true or false" };

const errorMap: z.ZodErrorMap = (issue, ctx) => {
  switch (issue.code) {
    case z.ZodIssueCode.invalid_type:
      if (issue.received === "undefined") return { message: "required" };
      return { message: `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${show(ctx.data)}` };
    case z.ZodIssueCode.invalid_enum_value:
      return { message: `expected one of ${issue.options.map((o) => JSON.stringify(o)).join(", ")}, got ${show(ctx.data)}` };
    case z.ZodIssueCode.invalid_literal:
      return { message: `expected ${JSON.stringify(issue.expected)}, got ${show(ctx.data)}` };
    case z.ZodIssueCode.not_finite:
      return { message: `expected a finite number, got ${show(ctx.data)}` };
    case z.ZodIssueCode.too_small:
      if (issue.type === "string") return { message: "must not be empty" };
      break;
    default:
      break;
  }
  return { message: ctx.defaultError };
};

/** A duration ("5m", "1m30s", or a number of seconds) between min and max. */
function dur(min: number, max: number) {
  return z.unknown().transform((v, ctx): number => {
    const fail = (message: string): never => {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message });
      return z.NEVER;
    };
    if (v === undefined) return fail("required");
    if (typeof v !== "string" && typeof v !== "number") return fail(`expected a duration like "5m" or "1m30s", got ${show(v)}`);
    let ms: number;
    try {
      ms = parseDuration(typeof v === "number" ? `${v}s` : v);
    } catch {
      return fail(`expected a duration like "5m" or "1m30s", got ${show(v)}`);
    }
    if (ms < min || ms > max) return fail(`must be between ${formatDuration(min)} and ${formatDuration(max)}, got ${show(v)}`);
    return ms;
  });
}

/** `for: 5m`, or per severity: `for: { warning: 5m, critical: 1m }` (a missing severity: 0s). */
const zFor = z.unknown().transform((v, ctx): LevelDurations => {
  const one = dur(0, 7 * DAY);
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const out: LevelDurations = { warning: 0, critical: 0 };
    for (const [k, x] of Object.entries(v)) {
      if (k !== "warning" && k !== "critical") {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: [k], message: `unknown severity (expected warning or critical)` });
        continue;
      }
      const r = one.safeParse(x, { errorMap });
      if (r.success) out[k] = r.data;
      else for (const i of r.error.issues) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [k], message: i.message });
    }
    return out;
  }
  const r = one.safeParse(v, { errorMap });
  if (r.success) return { warning: r.data, critical: r.data };
  for (const i of r.error.issues) ctx.addIssue({ code: z.ZodIssueCode.custom, message: i.message });
  return z.NEVER;
});

/** Label values: YAML scalars as text; an empty value (`cpu:`) means "absent", like `cpu: ""`. */
const zLabelValue = z.unknown().transform((v, ctx): string => {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null) return "";
  ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected a string, got ${show(v)}` });
  return z.NEVER;
});

/** Bounds shared by rule files and API rules: a rule is configuration, not data, and stays small. */
export const RULE_LIMITS = { name: 128, metric: 256, text: 1024, description: 4096, labels: 32, overrides: 100 } as const;

const zMatchers = z.record(z.string(), zLabelValue).superRefine((m, ctx) => {
  const entries = Object.entries(m);
  if (entries.length > MAX_MATCHERS) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `at most ${MAX_MATCHERS} matchers, got ${entries.length}` });
  for (const [k, p] of entries) {
    const problem = labelNameProblem(k) ?? matcherValueProblem(p);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [k], message: problem });
  }
});

/** Bounded text without control characters (newlines allowed where `multiline`). */
function zText(max: number, multiline = false) {
  return z.string().superRefine((t, ctx) => {
    const problem = textProblem(t, { max, multiline });
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  });
}

const zLabels = z.record(z.string(), zLabelValue).superRefine((m, ctx) => {
  const entries = Object.entries(m);
  if (entries.length > RULE_LIMITS.labels) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `at most ${RULE_LIMITS.labels} labels, got ${entries.length}` });
  for (const [k, v] of entries) {
    const problem = labelNameProblem(k) ?? textProblem(v, { max: RULE_LIMITS.text });
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [k], message: problem });
  }
});

const zPattern = z.string().superRefine((p, ctx) => {
  const problem = matcherValueProblem(p);
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});

const zLevel = z
  .object({ op: z.enum([">", ">=", "<", "<="]), value: z.number().finite(), clear: z.number().finite().optional() })
  .strict()
  .transform((l): Level => ({ op: l.op, value: l.value, clear: l.clear ?? null }));

const zSummary = z.string().superRefine((t, ctx) => {
  const problem = textProblem(t, { max: RULE_LIMITS.text }) ?? templateProblem(t);
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});

const common = {
  name: z
    .string()
    .max(RULE_LIMITS.name, `at most ${RULE_LIMITS.name} characters`)
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, "expected letters, digits and _ . : - (starting with a letter or digit)"),
  kind: z.string(),
  description: zText(RULE_LIMITS.description, true).optional(),
  labels: zLabels.optional(),
  summary: zSummary.optional(),
};

const zMetric = z.string().min(1).superRefine((t, ctx) => {
  const problem = textProblem(t, { max: RULE_LIMITS.metric });
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});

const levelled = {
  metric: zMetric,
  match: zMatchers.optional(),
  warning: zLevel.optional(),
  critical: zLevel.optional(),
  clear: z.number().finite().optional(),
  overrides: z
    .array(z.object({ match: zMatchers, warning: zLevel.nullable().optional(), critical: zLevel.nullable().optional() }).strict())
    .max(RULE_LIMITS.overrides, `at most ${RULE_LIMITS.overrides} overrides`)
    .optional(),
  for: zFor.optional(),
  keep_firing_for: dur(0, 7 * DAY).optional(),
};

const zSeverity = z.enum(["warning", "critical"]);
const zSeverityOrNone = z.enum(["critical", "warning", "none"]);

const schemas = {
  threshold: z.object({ ...common, ...levelled, reduce: z.object({ fn: z.enum(["avg", "max", "min", "last"]), over: dur(1000, 7 * DAY).optional() }).strict().optional() }).strict(),
  rate: z.object({ ...common, ...levelled, window: dur(1000, 7 * DAY), counter: z.boolean().optional() }).strict(),
  absent: z.object({ ...common, host_down: z.literal(true).optional(), metric: zMetric.optional(), match: zMatchers.optional(), for: dur(1000, 7 * DAY).optional(), severity: zSeverity.optional() }).strict(),
  check: z
    .object({
      ...common,
      check: zPattern.optional(),
      match: zMatchers.optional(),
      severity_for: z.object({ unhealthy: zSeverityOrNone.optional(), degraded: zSeverityOrNone.optional() }).strict().optional(),
      for: zFor.optional(),
      keep_firing_for: dur(0, 7 * DAY).optional(),
    })
    .strict(),
};

function pathText(path: readonly (string | number)[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? p : `.${p}`;
  return out;
}

function issuesToProblems(issues: readonly z.ZodIssue[]): RuleProblem[] {
  const out: RuleProblem[] = [];
  for (const i of issues) {
    if (i.code === z.ZodIssueCode.unrecognized_keys) {
      for (const k of i.keys) out.push({ path: pathText([...i.path, k]), message: "unknown field" });
    } else out.push({ path: pathText(i.path), message: i.message });
  }
  return out;
}

const up = (l: Level): boolean => l.op === ">" || l.op === ">=";

/** The levels a series gets: the rule's, replaced level by level by an override, with the rule-wide clear applied. */
export function resolveLevels(base: { warning: Level | null; critical: Level | null; clear: number | null }, override?: Override): { warning: Level | null; critical: Level | null } {
  const warning = override?.warning !== undefined ? override.warning : base.warning;
  const critical = override?.critical !== undefined ? override.critical : base.critical;
  if (base.clear === null) return { warning, critical };
  if (warning) return { warning: warning.clear === null ? { ...warning, clear: base.clear } : warning, critical };
  if (critical) return { warning, critical: critical.clear === null ? { ...critical, clear: base.clear } : critical };
  return { warning, critical };
}

/** `raw`: the levels as written (to tell a level's own clear from the rule-wide one); `levels`: as resolved. */
function levelProblems(raw: { warning: Level | null; critical: Level | null }, levels: { warning: Level | null; critical: Level | null }, prefix: string): RuleProblem[] {
  const out: RuleProblem[] = [];
  const { warning: w, critical: c } = levels;
  if (!w && !c) out.push({ path: prefix.replace(/\.$/, ""), message: "needs a warning and/or a critical level" });
  if (w && c) {
    if (up(w) !== up(c)) out.push({ path: `${prefix}critical.op`, message: `must compare in the same direction as warning.op ("${w.op}"), got "${c.op}"` });
    else if (up(w) ? w.value > c.value : w.value < c.value) {
      out.push({ path: `${prefix}warning.value`, message: `must be reached before critical.value (${c.value}) for op "${w.op}", got ${w.value}` });
    }
  }
  for (const [name, l] of [["warning", w], ["critical", c]] as const) {
    if (l && l.clear !== null && (up(l) ? l.clear > l.value : l.clear < l.value)) {
      out.push({ path: raw[name]?.clear !== null ? `${prefix}${name}.clear` : "clear", message: `must be on the clear side of value ${l.value} for op "${l.op}" (${up(l) ? "at or below" : "at or above"}), got ${l.clear}` });
    }
  }
  return out;
}

type Parsed<K extends keyof typeof schemas> = z.output<(typeof schemas)[K]>;

function toRule(kind: RuleKind, p: Parsed<keyof typeof schemas>, problems: RuleProblem[]): Rule {
  const base = { name: p.name, description: p.description ?? null, labels: p.labels ?? {}, summary: p.summary ?? null };
  const zero: LevelDurations = { warning: 0, critical: 0 };
  if (kind === "absent") {
    const a = p as Parsed<"absent">;
    const match: Matchers = a.match ?? {};
    if (a.host_down && a.metric !== undefined) problems.push({ path: "metric", message: "not allowed with host_down: true" });
    if (!a.host_down && a.metric === undefined) problems.push({ path: "metric", message: "required (or host_down: true)" });
    if (a.host_down) for (const k of Object.keys(match)) if (k !== "host") problems.push({ path: `match.${k}`, message: "host_down rules can match only host" });
    if (!a.host_down && a.for === undefined) problems.push({ path: "for", message: "required for a series absence rule" });
    return { ...base, kind, hostDown: a.host_down === true, metric: a.metric ?? null, match, forMs: a.for ?? null, severity: (a.severity ?? "critical") as Severity };
  }
  if (kind === "check") {
    const c = p as Parsed<"check">;
    const severityFor = { unhealthy: c.severity_for?.unhealthy ?? "critical", degraded: c.severity_for?.degraded ?? "warning" };
    if (severityFor.unhealthy === "none" && severityFor.degraded === "none") problems.push({ path: "severity_for", message: "maps every status to none: the rule can never fire" });
    return { ...base, kind, check: c.check ?? "~.*", match: c.match ?? {}, severityFor, forMs: c.for ?? zero, keepFiringForMs: c.keep_firing_for ?? 0 };
  }
  const l = p as Parsed<"threshold"> | Parsed<"rate">;
  const levels = { warning: l.warning ?? null, critical: l.critical ?? null, clear: l.clear ?? null };
  const overrides: Override[] = (l.overrides ?? []).map((o) => ({ match: o.match, ...(o.warning !== undefined ? { warning: o.warning } : {}), ...(o.critical !== undefined ? { critical: o.critical } : {}) }));
  problems.push(...levelProblems(levels, resolveLevels(levels), ""));
  overrides.forEach((o, i) => {
    if (o.warning === undefined && o.critical === undefined) problems.push({ path: `overrides[${i}]`, message: "needs warning and/or critical" });
    else problems.push(...levelProblems(resolveLevels({ ...levels, clear: null }, o), resolveLevels(levels, o), `overrides[${i}].`));
  });
  const shared = { ...base, metric: l.metric, match: l.match ?? {}, ...levels, overrides, forMs: l.for ?? zero, keepFiringForMs: l.keep_firing_for ?? 0 };
  if (kind === "rate") {
    const r = p as Parsed<"rate">;
    return { ...shared, kind, windowMs: r.window, counter: r.counter ?? true };
  }
  const t = p as Parsed<"threshold">;
  const fn = t.reduce?.fn ?? "last";
  if (fn !== "last" && t.reduce?.over === undefined) problems.push({ path: "reduce.over", message: `required for fn "${fn}"` });
  return { ...shared, kind: "threshold", reduce: { fn, overMs: fn === "last" ? 0 : (t.reduce?.over ?? 0) } };
}

/** Validates one rule as found in a rule file. */
export function validateRule(raw: unknown): { ok: true; rule: Rule } | { ok: false; problems: RuleProblem[] } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return { ok: false, problems: [{ path: "", message: `expected a mapping, got ${show(raw)}` }] };
  const kind = (raw as Record<string, unknown>).kind;
  if (typeof kind !== "string" || !(RULE_KINDS as readonly string[]).includes(kind)) {
    const message = kind === undefined ? `required (one of ${RULE_KINDS.join(", ")})` : `expected one of ${RULE_KINDS.map((k) => JSON.stringify(k)).join(", ")}, got ${show(kind)}`;
    return { ok: false, problems: [{ path: "kind", message }] };
  }
  const k = kind as RuleKind;
  const r = schemas[k].safeParse(raw, { errorMap });
  if (!r.success) return { ok: false, problems: issuesToProblems(r.error.issues) };
  const problems: RuleProblem[] = [];
  const rule = toRule(k, r.data, problems);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, rule };
}
