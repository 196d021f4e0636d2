// `vigil rules test FILE...`: unit tests for alert rules, run locally on the rule engine (no collector).
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { combineRules, defaultRules, parseRuleFile, type Rule } from "../../rules/index.js";
import type { Command } from "./command.js";
import { writeJson, type CliIo } from "./io.js";
import { parseTestFile, type TestFile } from "./rules-test-format.js";
import { formatFailures, runRuleTest, type TestResult } from "./rules-test-run.js";

/** The rules a test file runs: its rule files (relative to it) on top of the defaults unless `default_rules: false`. */
function loadRules(file: string, spec: TestFile): { rules: Rule[]; errors: string[] } {
  const errors: string[] = [];
  const user: Rule[] = [];
  const origin = new Map<string, string>();
  spec.ruleFiles.forEach((f, i) => {
    const path = isAbsolute(f) ? f : join(dirname(file), f);
    let content: string;
    try {
      content = readFileSync(path, "utf8");
    } catch (err) {
      errors.push(`${file}: rule_files[${i}]: cannot read ${path}: ${(err as Error).message}`);
      return;
    }
    const r = parseRuleFile(path, content);
    errors.push(...r.errors);
    for (const rule of r.rules) {
      const first = origin.get(rule.name);
      if (first !== undefined) errors.push(`${path}: rule ${JSON.stringify(rule.name)}: name: duplicate rule name, already defined in ${first}`);
      else origin.set(rule.name, path);
      user.push(rule);
    }
  });
  return { rules: combineRules(spec.defaultRules ? defaultRules() : [], user).rules, errors };
}

interface FileReport {
  file: string;
  ok: boolean;
  errors: string[];
  tests: TestResult[];
}

export function runTestFile(file: string): FileReport {
  let content: string;
  try {
    content = readFileSync(file, "utf8");
  } catch (err) {
    return { file, ok: false, errors: [`${file}: cannot read test file: ${(err as Error).message}`], tests: [] };
  }
  const parsed = parseTestFile(file, content);
  if (!parsed.ok) return { file, ok: false, errors: parsed.errors, tests: [] };
  const { rules, errors } = loadRules(file, parsed.value);
  if (errors.length > 0) return { file, ok: false, errors, tests: [] };
  const tests = parsed.value.tests.map((t) => runRuleTest(rules, parsed.value.evaluationIntervalMs, t));
  return { file, ok: tests.every((t) => t.ok), errors: [], tests };
}

function print(io: CliIo, r: FileReport): void {
  if (r.errors.length > 0) {
    for (const e of r.errors) io.stderr.write(`${e}\n`);
    io.stderr.write(`${r.file}: not run (fix the errors above)\n`);
    return;
  }
  io.stdout.write(`${r.file}\n`);
  for (const t of r.tests) {
    io.stdout.write(`  ${t.ok ? "PASS" : "FAIL"}  ${t.name}\n`);
    if (!t.ok) io.stdout.write(formatFailures(t.failures, "        "));
  }
}

export const rulesTestCommand: Command = {
  name: "rules test",
  synopsis: "FILE...",
  summary: "run unit tests for alert rules locally (exit 1 if any fails)",
  help: [
    "A test file names rule files (relative to it), input series and the alerts expected at given times:",
    "",
    "  rule_files: [rules/disk.yaml]       # default rules are included unless default_rules: false",
    "  evaluation_interval: 10s            # engine tick (default 10s)",
    "  tests:",
    "    - name: disk fills up",
    "      interval: 1m                    # spacing of input values (default 1m)",
    "      input_series:",
    "        - series: 'system.filesystem.utilization{host=\"web-1\",mountpoint=\"/\"}'",
    '          values: "0.5 0.9x6 _ 0.1+0.1x3" # a, a x n (n+1 values), a+b x n (ramp), _ missing',
    "        - host_seen: { host: web-2, until: 5m, interval: 10s }",
    '        - check: { host: web-1, name: nginx, values: "healthy unhealthyx5" }',
    "      alert_rule_test:",
    "        - at: 5m",
    '          alerts: [ { rule: disk-full, severity: warning, labels: { host: web-1, mountpoint: "/" } } ]',
    "",
    "Compared at `at`: the firing alerts (plus pending ones with include_pending: true or an expected state: pending),",
    "one-to-one on rule, severity, state (default firing), the listed labels, and summary/value when given.",
  ].join("\n"),
  options: {},
  arity: [1, Infinity],
  argName: "a test FILE",
  async run(ctx) {
    const reports = ctx.args.map(runTestFile);
    const failed = reports.filter((r) => !r.ok);
    if (ctx.json) writeJson(ctx.io, { ok: failed.length === 0, files: reports });
    else {
      for (const r of reports) print(ctx.io, r);
      const tests = reports.flatMap((r) => r.tests);
      const bad = tests.filter((t) => !t.ok).length;
      const summary = `${tests.length} test${tests.length === 1 ? "" : "s"}, ${bad} failed${failed.some((r) => r.errors.length > 0) ? `; ${failed.filter((r) => r.errors.length > 0).length} file(s) not run` : ""}\n`;
      ctx.io.stdout.write(summary);
    }
    return failed.length === 0 ? 0 : 1;
  },
};
