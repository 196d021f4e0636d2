// Runs rule tests on the real RuleEngine with a ManualClock: inputs at their times, a tick every evaluation_interval,
// and at each `at` the pending/firing instances are matched one-to-one against the expected alerts.
import { formatDuration, ManualClock } from "@vigil/shared";
import { RuleEngine, type AlertInstance, type CheckRunInput, type Rule, type SamplePoint } from "../../rules/index.js";
import { formatLabels, formatValue } from "./io.js";
import type { AlertCase, ExpectedAlert, RuleTest } from "./rules-test-format.js";

/** Test time 0 is the Unix epoch, so times in summaries ({{last_seen}}) read as offsets. */
const T0 = 0;

export interface ActualAlert {
  rule: string;
  severity: string;
  state: string;
  labels: Record<string, string>;
  summary: string;
  value: number;
}

export interface CaseResult {
  at: string;
  /** Which states were compared ("firing", "firing and pending"). */
  compared: string;
  missing: { expected: ExpectedAlert; closest: string | null }[];
  unexpected: ActualAlert[];
}

export interface TestResult {
  name: string;
  ok: boolean;
  failures: CaseResult[];
}

interface Step {
  samples: SamplePoint[];
  seen: { host: string; intervalMs: number }[];
  checks: CheckRunInput[];
}

function sortedLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([k]) => k !== "alertname").sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const toActual = (a: AlertInstance): ActualAlert => ({ rule: a.ruleName, severity: a.severity, state: a.state, labels: sortedLabels(a.labels), summary: a.summary, value: a.value });

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/** How `a` differs from `e` (empty: it matches). */
export function differences(e: ExpectedAlert, a: ActualAlert): string[] {
  const out: string[] = [];
  if (e.rule !== a.rule) out.push(`rule: expected ${e.rule}, got ${a.rule}`);
  if (e.severity !== null && e.severity !== a.severity) out.push(`severity: expected ${e.severity}, got ${a.severity}`);
  if (e.state !== a.state) out.push(`state: expected ${e.state}, got ${a.state}`);
  for (const [k, v] of Object.entries(e.labels)) {
    const got = a.labels[k];
    if (got !== v) out.push(`labels.${k}: expected ${JSON.stringify(v)}, got ${got === undefined ? "no such label" : JSON.stringify(got)}`);
  }
  if (e.summary !== null && e.summary !== a.summary) out.push(`summary: expected ${JSON.stringify(e.summary)}, got ${JSON.stringify(a.summary)}`);
  if (e.value !== null && !close(e.value, a.value)) out.push(`value: expected ${e.value}, got ${a.value}`);
  return out;
}

/** Maximum one-to-one matching (augmenting paths): owner[j] is the expected alert that actual j satisfies. */
function assign(expected: readonly ExpectedAlert[], actual: readonly ActualAlert[]): (number | undefined)[] {
  const fits = expected.map((e) => actual.map((a) => differences(e, a).length === 0));
  const owner: (number | undefined)[] = actual.map(() => undefined);
  const place = (i: number, seen: Set<number>): boolean => {
    for (let j = 0; j < actual.length; j++) {
      if (!fits[i]![j] || seen.has(j)) continue;
      seen.add(j);
      const prev = owner[j];
      if (prev === undefined || place(prev, seen)) {
        owner[j] = i;
        return true;
      }
    }
    return false;
  };
  expected.forEach((_, i) => place(i, new Set()));
  return owner;
}

export function compareCase(c: AlertCase, instances: readonly AlertInstance[]): CaseResult {
  const states = c.includePending ? ["firing", "pending"] : ["firing"];
  const actual = instances.filter((a) => states.includes(a.state)).map(toActual);
  actual.sort((x, y) => (x.rule + formatLabels(x.labels) < y.rule + formatLabels(y.labels) ? -1 : 1));
  const owner = assign(c.alerts, actual);
  const unexpected = actual.filter((_, j) => owner[j] === undefined);
  const missing = c.alerts
    .filter((_, i) => !owner.includes(i))
    .map((expected) => {
      // The nearest leftover alert of the same rule, to say which field is off.
      const near = unexpected
        .filter((a) => a.rule === expected.rule)
        .map((a) => differences(expected, a))
        .sort((x, y) => x.length - y.length)[0];
      return { expected, closest: near ? near.join("; ") : null };
    });
  return { at: formatDuration(c.atMs), compared: states.join(" and "), missing, unexpected };
}

/** Plays one test's inputs through a fresh engine up to its latest `at`. */
export function runRuleTest(rules: readonly Rule[], evaluationIntervalMs: number, test: RuleTest): TestResult {
  const clock = new ManualClock(T0);
  let n = 0;
  const engine = new RuleEngine({ rules: [...rules], clock, newId: () => `t${++n}` });
  const end = Math.max(...test.cases.map((c) => c.atMs));
  const steps = new Map<number, Step>();
  const step = (t: number): Step => {
    let s = steps.get(t);
    if (!s) steps.set(t, (s = { samples: [], seen: [], checks: [] }));
    return s;
  };
  for (const input of test.inputs) {
    if (input.kind === "series") {
      const { metric, host, labels } = input.selector;
      input.values.forEach((value, i) => {
        const t = i * test.intervalMs;
        if (value !== null && t <= end) step(t).samples.push({ host, metric, labels, timeMs: T0 + t, value });
      });
    } else if (input.kind === "host") {
      for (let t = input.fromMs; t <= Math.min(input.untilMs, end); t += input.intervalMs) step(t).seen.push({ host: input.host, intervalMs: input.intervalMs });
    } else {
      input.statuses.forEach((status, i) => {
        const t = i * test.intervalMs;
        if (status !== null && t <= end) step(t).checks.push({ host: input.host, check: input.check, kind: input.checkKind, status, timeMs: T0 + t, message: input.message });
      });
    }
  }
  for (let t = 0; t <= end; t += evaluationIntervalMs) step(t);
  const casesAt = new Map<number, AlertCase[]>();
  for (const c of test.cases) {
    step(c.atMs);
    casesAt.set(c.atMs, [...(casesAt.get(c.atMs) ?? []), c]);
  }
  const failures: CaseResult[] = [];
  for (const t of [...steps.keys()].sort((a, b) => a - b)) {
    const s = steps.get(t)!;
    clock.set(T0 + t);
    // Inputs first, then the evaluation tick, then the checks of this instant.
    if (s.samples.length > 0) engine.ingestSamples(s.samples);
    for (const h of s.seen) engine.hostSeen(h.host, T0 + t, h.intervalMs);
    if (s.checks.length > 0) engine.ingestChecks(s.checks);
    if (t % evaluationIntervalMs === 0) engine.tick();
    for (const c of casesAt.get(t) ?? []) {
      const r = compareCase(c, engine.instances());
      if (r.missing.length > 0 || r.unexpected.length > 0) failures.push(r);
    }
  }
  return { name: test.name, ok: failures.length === 0, failures };
}

export function describeExpected(e: ExpectedAlert): string {
  const extra = [e.value !== null ? `value=${e.value}` : "", e.summary !== null ? `summary=${JSON.stringify(e.summary)}` : ""].filter(Boolean);
  return [e.rule, e.severity ?? "(any severity)", e.state, formatLabels(e.labels), ...extra].filter(Boolean).join(" ");
}

export function describeActual(a: ActualAlert): string {
  return [a.rule, a.severity, a.state, formatLabels(a.labels), `value=${formatValue(a.value)}`, `summary=${JSON.stringify(a.summary)}`].filter(Boolean).join(" ");
}

/** The readable report of a failed test's checks (indented lines). */
export function formatFailures(failures: readonly CaseResult[], indent: string): string {
  let out = "";
  for (const f of failures) {
    out += `${indent}at ${f.at} (comparing ${f.compared} alerts):\n`;
    for (const m of f.missing) {
      out += `${indent}  missing:    ${describeExpected(m.expected)}\n`;
      if (m.closest) out += `${indent}              closest ${m.expected.rule} alert differs: ${m.closest}\n`;
    }
    for (const u of f.unexpected) out += `${indent}  unexpected: ${describeActual(u)}\n`;
  }
  return out;
}
