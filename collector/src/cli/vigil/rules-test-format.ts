// Rule test files (`vigil rules test`): YAML read and validated into plain data; every error names the field.
import { parseDuration, type Labels } from "@vigil/shared";
import { parse as parseYaml } from "yaml";
import type { Severity } from "../../rules/index.js";
import { expandStatuses, expandValues, parseSelector, type CheckStatusName, type Selector } from "./rules-test-notation.js";

export type Input =
  | { kind: "series"; selector: Selector; values: (number | null)[] }
  | { kind: "host"; host: string; fromMs: number; untilMs: number; intervalMs: number }
  | { kind: "check"; host: string; check: string; checkKind: string; message: string; statuses: (CheckStatusName | null)[] };

export interface ExpectedAlert {
  rule: string;
  severity: Severity | null;
  state: "firing" | "pending";
  /** Must be present with these values; other labels are not compared. */
  labels: Labels;
  summary: string | null;
  value: number | null;
}

export interface AlertCase {
  atMs: number;
  /** Pending instances are compared too (set, or implied by an expected alert in state pending). */
  includePending: boolean;
  alerts: ExpectedAlert[];
}

export interface RuleTest {
  name: string;
  intervalMs: number;
  inputs: Input[];
  cases: AlertCase[];
}

export interface TestFile {
  ruleFiles: string[];
  defaultRules: boolean;
  evaluationIntervalMs: number;
  tests: RuleTest[];
}

type Map_ = Record<string, unknown>;

/** Collects problems as `FILE: PATH: message` and reads typed fields out of parsed YAML. */
class Reader {
  readonly errors: string[] = [];
  constructor(private readonly file: string) {}

  fail(path: string, message: string): null {
    this.errors.push(path ? `${this.file}: ${path}: ${message}` : `${this.file}: ${message}`);
    return null;
  }

  map(v: unknown, path: string, allowed: readonly string[]): Map_ | null {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return this.fail(path, `expected a mapping, got ${show(v)}`);
    for (const k of Object.keys(v)) if (!allowed.includes(k)) this.fail(join(path, k), `unknown field (expected one of ${allowed.join(", ")})`);
    return v as Map_;
  }

  list(m: Map_, key: string, path: string, required: boolean): unknown[] | null {
    const v = m[key];
    if (v === undefined || v === null) return required ? this.fail(join(path, key), "required") : [];
    return Array.isArray(v) ? v : this.fail(join(path, key), `expected a list, got ${show(v)}`);
  }

  string(m: Map_, key: string, path: string, fallback?: string): string | null {
    const v = m[key];
    if (v === undefined || v === null) return fallback ?? this.fail(join(path, key), "required");
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    return typeof v === "string" && v !== "" ? v : this.fail(join(path, key), `expected a non-empty string, got ${show(v)}`);
  }

  duration(m: Map_, key: string, path: string, fallback?: number, positive = false): number | null {
    const v = m[key];
    if (v === undefined || v === null) return fallback ?? this.fail(join(path, key), 'required (a duration like "5m")');
    try {
      const ms = parseDuration(typeof v === "number" ? String(v) : typeof v === "string" ? v : show(v), "x");
      if (positive && ms <= 0) return this.fail(join(path, key), `must be longer than 0s, got ${show(v)}`);
      return ms;
    } catch {
      return this.fail(join(path, key), `expected a duration like "10s" or "1m30s", got ${show(v)}`);
    }
  }

  bool(m: Map_, key: string, path: string, fallback: boolean): boolean {
    const v = m[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === "boolean") return v;
    this.fail(join(path, key), `expected true or false, got ${show(v)}`);
    return fallback;
  }

  /** Runs a notation parser; its error is reported under the field. */
  parse<T>(path: string, fn: () => T): T | null {
    try {
      return fn();
    } catch (err) {
      return this.fail(path, (err as Error).message);
    }
  }
}

const join = (path: string, key: string | number): string => (typeof key === "number" ? `${path}[${key}]` : path ? `${path}.${key}` : key);

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function readInput(r: Reader, raw: unknown, path: string, intervalMs: number): Input | null {
  const kinds = ["series", "host_seen", "check"].filter((k) => typeof raw === "object" && raw !== null && k in raw);
  if (kinds.length !== 1) return r.fail(path, `expected exactly one of series (with values), host_seen or check, got ${kinds.length ? kinds.join(" and ") : show(raw)}`);
  if (kinds[0] === "series") {
    const m = r.map(raw, path, ["series", "values"]);
    const sel = m && r.string(m, "series", path);
    const values = m && r.string(m, "values", path);
    const selector = sel === null ? null : r.parse(join(path, "series"), () => parseSelector(sel));
    const expanded = values === null ? null : r.parse(join(path, "values"), () => expandValues(values));
    return selector && expanded ? { kind: "series", selector, values: expanded } : null;
  }
  if (kinds[0] === "host_seen") {
    const p = join(path, "host_seen");
    const m = r.map((raw as Map_).host_seen, p, ["host", "from", "until", "interval"]);
    if (!m) return null;
    const host = r.string(m, "host", p);
    const fromMs = r.duration(m, "from", p, 0);
    const untilMs = r.duration(m, "until", p);
    const every = r.duration(m, "interval", p, intervalMs, true);
    if (host === null || fromMs === null || untilMs === null || every === null) return null;
    if (untilMs < fromMs) return r.fail(join(p, "until"), "must not be before from");
    return { kind: "host", host, fromMs, untilMs, intervalMs: every };
  }
  const p = join(path, "check");
  const m = r.map((raw as Map_).check, p, ["host", "name", "kind", "message", "values"]);
  if (!m) return null;
  const host = r.string(m, "host", p);
  const check = r.string(m, "name", p);
  const checkKind = r.string(m, "kind", p, "test");
  const message = typeof m.message === "string" ? m.message : "";
  const values = r.string(m, "values", p);
  const statuses = values === null ? null : r.parse(join(p, "values"), () => expandStatuses(values));
  if (host === null || check === null || checkKind === null || statuses === null) return null;
  return { kind: "check", host, check, checkKind, message, statuses };
}

function readExpected(r: Reader, raw: unknown, path: string): ExpectedAlert | null {
  const m = r.map(raw, path, ["rule", "severity", "state", "labels", "summary", "value"]);
  if (!m) return null;
  const rule = r.string(m, "rule", path);
  const severity = m.severity === undefined ? null : m.severity === "warning" || m.severity === "critical" ? m.severity : r.fail(join(path, "severity"), `expected warning or critical, got ${show(m.severity)}`);
  const state = m.state === undefined || m.state === "firing" || m.state === "pending" ? (m.state ?? "firing") : r.fail(join(path, "state"), `expected firing or pending, got ${show(m.state)}`);
  const labels: Labels = {};
  if (m.labels !== undefined) {
    const lm = r.map(m.labels, join(path, "labels"), Object.keys(m.labels ?? {}));
    for (const [k, v] of Object.entries(lm ?? {})) {
      if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") labels[k] = String(v);
      else r.fail(join(join(path, "labels"), k), `expected a string, got ${show(v)}`);
    }
  }
  const summary = m.summary === undefined ? null : typeof m.summary === "string" ? m.summary : r.fail(join(path, "summary"), `expected a string, got ${show(m.summary)}`);
  const value = m.value === undefined ? null : typeof m.value === "number" ? m.value : r.fail(join(path, "value"), `expected a number, got ${show(m.value)}`);
  if (rule === null || state === null) return null;
  return { rule, severity, state, labels, summary, value };
}

function readCase(r: Reader, raw: unknown, path: string): AlertCase | null {
  const m = r.map(raw, path, ["at", "alerts", "include_pending"]);
  if (!m) return null;
  const atMs = r.duration(m, "at", path);
  const list = m.alerts === undefined ? r.fail(join(path, "alerts"), "required (use [] to expect no alert)") : r.list(m, "alerts", path, false);
  const alerts = (list ?? []).map((a, i) => readExpected(r, a, join(join(path, "alerts"), i)));
  const includePending = r.bool(m, "include_pending", path, alerts.some((a) => a?.state === "pending"));
  if (atMs === null || list === null || alerts.some((a) => a === null)) return null;
  return { atMs, includePending, alerts: alerts.filter((a): a is ExpectedAlert => a !== null) };
}

function readTest(r: Reader, raw: unknown, path: string): RuleTest | null {
  const m = r.map(raw, path, ["name", "interval", "input_series", "alert_rule_test"]);
  if (!m) return null;
  const name = r.string(m, "name", path, path);
  const intervalMs = r.duration(m, "interval", path, 60_000, true);
  const inputs = (r.list(m, "input_series", path, false) ?? []).map((x, i) => readInput(r, x, join(join(path, "input_series"), i), intervalMs ?? 60_000));
  const caseList = r.list(m, "alert_rule_test", path, true);
  if (caseList && caseList.length === 0) r.fail(join(path, "alert_rule_test"), "expected at least one { at, alerts } check");
  const cases = (caseList ?? []).map((x, i) => readCase(r, x, join(join(path, "alert_rule_test"), i)));
  if (name === null || intervalMs === null || caseList === null || inputs.some((x) => x === null) || cases.some((x) => x === null)) return null;
  return { name, intervalMs, inputs: inputs.filter((x): x is Input => x !== null), cases: cases.filter((x): x is AlertCase => x !== null) };
}

/** Parses a test file's text; `{ errors }` lists every problem found (`FILE: PATH: message`). */
export function parseTestFile(file: string, text: string): { ok: true; value: TestFile } | { ok: false; errors: string[] } {
  const r = new Reader(file);
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return { ok: false, errors: [`${file}: invalid YAML: ${(err as Error).message.split("\n")[0]}`] };
  }
  const m = r.map(doc, "", ["rule_files", "default_rules", "evaluation_interval", "tests"]);
  if (!m) return { ok: false, errors: r.errors };
  const files = r.list(m, "rule_files", "", false) ?? [];
  const ruleFiles = files.map((f, i) => (typeof f === "string" && f !== "" ? f : r.fail(`rule_files[${i}]`, `expected a file path, got ${show(f)}`)));
  const defaultRules = r.bool(m, "default_rules", "", true);
  const evaluationIntervalMs = r.duration(m, "evaluation_interval", "", 10_000, true);
  const list = r.list(m, "tests", "", true);
  if (list && list.length === 0) r.fail("tests", "expected at least one test");
  const tests = (list ?? []).map((t, i) => readTest(r, t, `tests[${i}]`));
  if (r.errors.length > 0 || evaluationIntervalMs === null) return { ok: false, errors: r.errors };
  const steps = Math.max(0, ...tests.flatMap((t) => t?.cases.map((c) => c.atMs) ?? [])) / evaluationIntervalMs;
  if (steps > 1_000_000) return { ok: false, errors: [`${file}: evaluation_interval: too short for the latest "at" (more than 1,000,000 evaluations)`] };
  return { ok: true, value: { ruleFiles: ruleFiles.filter((f): f is string => f !== null), defaultRules, evaluationIntervalMs, tests: tests.filter((t): t is RuleTest => t !== null) } };
}
