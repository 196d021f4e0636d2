// Notification policy configuration: the route tree, inhibit rules and escalation policies, as written in YAML
// (snake_case), validated into plain resolved data (camelCase, ms, inheritance applied). Every problem names its
// path ("route.routes[1].group_wait: ...") so a bad file can be fixed without guessing.
import { z } from "zod";
import { VigilError, formatDuration, zBoolean, zDuration } from "@vigil/shared";
import { CollectorErrors } from "../../errors.js";
import { patternProblem } from "../../rules/matchers.js";
import { show } from "../../rules/rule-schema.js";
import type { Matchers } from "../../rules/types.js";

/** `escalation: none` switches escalation off for a route (only tier 0: the route's receivers). */
export const NO_ESCALATION = "none";
/** `group_by: ["..."]` groups by every label (one group per alert). */
export const ALL_LABELS = "...";

const MIN = 60_000;
const DAY = 86_400_000;

export interface EscalationTier {
  afterMs: number;
  /** null: the route's receivers. */
  receivers: string[] | null;
}

export interface EscalationPolicy {
  tiers: EscalationTier[];
}

export interface ResolvedRoute {
  /** "/" for the root, "/1/0" for the root's 2nd child's 1st child: part of every group key. */
  path: string;
  match: Matchers;
  continue: boolean;
  receivers: string[];
  groupBy: string[] | "all";
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  escalation: string;
  /** The escalation policy's tiers with receivers resolved (tier 0 is who hears about firing alerts first). */
  tiers: { afterMs: number; receivers: string[] }[];
  routes: ResolvedRoute[];
}

export interface InhibitRule {
  sourceMatch: Matchers;
  targetMatch: Matchers;
  equal: string[];
}

export interface PolicyConfig {
  route: ResolvedRoute;
  /** Configured rules, then the built-in host-down one (unless `inhibit_host_down: false`). */
  inhibitRules: InhibitRule[];
  escalationPolicies: Record<string, EscalationPolicy>;
}

/** The built-in rule: while a host is down, its other alerts are noise (they are symptoms of the outage). */
export const HOST_DOWN_INHIBIT: InhibitRule = { sourceMatch: { alertname: "host-down" }, targetMatch: { alertname: "!host-down" }, equal: ["host"] };

/**
 * Used by routes that name no policy: tier 0 at once, then 15m and 30m unacknowledged. Tiers without receivers
 * re-notify the route's receivers; define `escalation_policies.default` to send tiers 1 and 2 elsewhere.
 */
export const DEFAULT_ESCALATION: EscalationPolicy = {
  tiers: [
    { afterMs: 0, receivers: null },
    { afterMs: 15 * MIN, receivers: null },
    { afterMs: 30 * MIN, receivers: null },
  ],
};

const ROOT_DEFAULTS = { receivers: [] as string[], group_by: ["alertname", "host"], group_wait: 1000, group_interval: MIN, repeat_interval: 4 * 3_600_000, escalation: "default" };

const zName = z.string().min(1, "must not be empty");
const zMatchers = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).superRefine((m, ctx) => {
  for (const [k, p] of Object.entries(m)) {
    const problem = patternProblem(p);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [k], message: problem });
  }
});

interface RawRoute {
  receivers?: string[];
  match?: Matchers;
  continue?: boolean;
  group_by?: string[];
  group_wait?: number;
  group_interval?: number;
  repeat_interval?: number;
  escalation?: string;
  routes?: RawRoute[];
}

const zRoute: z.ZodType<RawRoute, z.ZodTypeDef, unknown> = z.lazy(() =>
  z
    .object({
      receivers: z.array(zName).optional(),
      match: zMatchers.optional(),
      continue: zBoolean.optional(),
      group_by: z.array(zName).min(1, "must list at least one label (or \"...\")").optional(),
      group_wait: zDuration(0, 3_600_000).optional(),
      group_interval: zDuration(1000, DAY).optional(),
      repeat_interval: zDuration(MIN, 30 * DAY).optional(),
      escalation: zName.optional(),
      routes: z.array(zRoute).optional(),
    })
    .strict(),
);

const zTier = z.object({ after: zDuration(0, 7 * DAY), receivers: z.array(zName).min(1, "must list a receiver (or leave receivers out: the route's)").optional() }).strict();

const zConfig = z
  .object({
    route: zRoute.optional(),
    inhibit_rules: z.array(z.object({ source_match: zMatchers, target_match: zMatchers, equal: z.array(zName).default([]) }).strict()).default([]),
    inhibit_host_down: zBoolean.default(true),
    escalation_policies: z.record(zName, z.object({ tiers: z.array(zTier).min(1, "needs at least one tier") }).strict()).default({}),
  })
  .strict();

export interface PolicyProblem {
  path: string;
  message: string;
}

export class PolicyConfigError extends VigilError {
  constructor(readonly problems: PolicyProblem[]) {
    super(CollectorErrors.BAD_CONFIG, problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join("\n"));
    this.name = "PolicyConfigError";
  }
}

function pathText(path: readonly (string | number)[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? p : `.${p}`;
  return out;
}

const errorMap: z.ZodErrorMap = (issue, ctx) => {
  if (issue.code === z.ZodIssueCode.invalid_type) return { message: issue.received === "undefined" ? "required" : `expected ${issue.expected}, got ${show(ctx.data)}` };
  return { message: ctx.defaultError };
};

type Inherited = Required<Omit<RawRoute, "match" | "continue" | "routes">>;

function resolveRoute(raw: RawRoute, parent: Inherited, path: string, where: string, policies: Record<string, EscalationPolicy>, problems: PolicyProblem[]): ResolvedRoute {
  // Unset settings come from the parent, so a child route needs to say only what differs.
  const s: Inherited = {
    receivers: raw.receivers ?? parent.receivers,
    group_by: raw.group_by ?? parent.group_by,
    group_wait: raw.group_wait ?? parent.group_wait,
    group_interval: raw.group_interval ?? parent.group_interval,
    repeat_interval: raw.repeat_interval ?? parent.repeat_interval,
    escalation: raw.escalation ?? parent.escalation,
  };
  if (s.group_by.includes(ALL_LABELS) && s.group_by.length > 1) problems.push({ path: `${where}.group_by`, message: `"${ALL_LABELS}" (every label) cannot be combined with other labels` });
  // Checked where either is set, not again in every child that inherits both.
  if (s.repeat_interval < s.group_interval && (path === "/" || raw.repeat_interval !== undefined || raw.group_interval !== undefined)) {
    problems.push({ path: `${where}.${raw.repeat_interval !== undefined ? "repeat_interval" : "group_interval"}`, message: `repeat_interval (${formatDuration(s.repeat_interval)}) must not be shorter than group_interval (${formatDuration(s.group_interval)})` });
  }
  let policy: EscalationPolicy = { tiers: [{ afterMs: 0, receivers: null }] };
  if (s.escalation !== NO_ESCALATION) {
    const p = policies[s.escalation];
    if (p) policy = p;
    else if (raw.escalation !== undefined) problems.push({ path: `${where}.escalation`, message: `unknown escalation policy ${show(s.escalation)} (defined: ${[NO_ESCALATION, ...Object.keys(policies)].join(", ")})` });
  }
  const routes = (raw.routes ?? []).map((r, i) => resolveRoute(r, s, `${path === "/" ? "" : path}/${i}`, `${where}.routes[${i}]`, policies, problems));
  return {
    path,
    match: raw.match ?? {},
    continue: raw.continue ?? false,
    receivers: s.receivers,
    groupBy: s.group_by.includes(ALL_LABELS) ? "all" : s.group_by,
    groupWaitMs: s.group_wait,
    groupIntervalMs: s.group_interval,
    repeatIntervalMs: s.repeat_interval,
    escalation: s.escalation,
    tiers: policy.tiers.map((t) => ({ afterMs: t.afterMs, receivers: t.receivers ?? s.receivers })),
    routes,
  };
}

function checkReceivers(route: ResolvedRoute, where: string, known: ReadonlySet<string>, problems: PolicyProblem[]): void {
  for (const r of route.receivers) if (!known.has(r)) problems.push({ path: `${where}.receivers`, message: `unknown receiver ${show(r)}` });
  route.routes.forEach((c, i) => checkReceivers(c, `${where}.routes[${i}]`, known, problems));
}

/**
 * Validates the policy section of the collector's config (already parsed from YAML). `receivers`, when given, are
 * the configured receiver names: routes and tiers may name only those. Throws PolicyConfigError listing every problem.
 */
export function parsePolicyConfig(raw: unknown, options: { receivers?: readonly string[] } = {}): PolicyConfig {
  const r = zConfig.safeParse(raw ?? {}, { errorMap });
  if (!r.success) {
    throw new PolicyConfigError(
      r.error.issues.flatMap((i) => (i.code === z.ZodIssueCode.unrecognized_keys ? i.keys.map((k) => ({ path: pathText([...i.path, k]), message: "unknown field" })) : [{ path: pathText(i.path), message: i.message }])),
    );
  }
  const c = r.data;
  const problems: PolicyProblem[] = [];
  const policies: Record<string, EscalationPolicy> = { default: DEFAULT_ESCALATION };
  for (const [name, p] of Object.entries(c.escalation_policies)) {
    const where = `escalation_policies.${name}`;
    if (name === NO_ESCALATION) problems.push({ path: where, message: `"${NO_ESCALATION}" is reserved (it switches escalation off)` });
    p.tiers.forEach((t, i) => {
      if (i === 0 && t.after !== 0) problems.push({ path: `${where}.tiers[0].after`, message: `the first tier is the initial notification: must be 0s, got ${formatDuration(t.after)}` });
      const prev = p.tiers[i - 1];
      if (prev && t.after <= prev.after) problems.push({ path: `${where}.tiers[${i}].after`, message: `must be later than tiers[${i - 1}].after (${formatDuration(prev.after)}), got ${formatDuration(t.after)}` });
    });
    policies[name] = { tiers: p.tiers.map((t) => ({ afterMs: t.after, receivers: t.receivers ?? null })) };
  }
  const route = resolveRoute(c.route ?? {}, ROOT_DEFAULTS, "/", "route", policies, problems);
  if (options.receivers) {
    const known = new Set(options.receivers);
    checkReceivers(route, "route", known, problems);
    for (const [name, p] of Object.entries(policies)) {
      p.tiers.forEach((t, i) => {
        for (const x of t.receivers ?? []) if (!known.has(x)) problems.push({ path: `escalation_policies.${name}.tiers[${i}].receivers`, message: `unknown receiver ${show(x)}` });
      });
    }
  }
  if (problems.length > 0) throw new PolicyConfigError(problems);
  const inhibitRules: InhibitRule[] = c.inhibit_rules.map((i) => ({ sourceMatch: i.source_match, targetMatch: i.target_match, equal: i.equal }));
  if (c.inhibit_host_down) inhibitRules.push(HOST_DOWN_INHIBIT);
  return { route, inhibitRules, escalationPolicies: policies };
}
