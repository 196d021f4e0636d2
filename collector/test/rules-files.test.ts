import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_RULE_NAMES, DEFAULT_RULES_YAML, defaultRules } from "../src/rules/defaults.js";
import { compileLabelMatchers } from "@vigil/shared/label-matchers";
import { compileMatchers } from "../src/rules/matchers.js";
import { combineRules, loadRuleFiles, parseRuleFile } from "../src/rules/rule-loader.js";

/** Silences match alert labels (which carry `host` themselves) with the shared matcher engine. */
const silenceMatches = (labels: Record<string, string>, m: Record<string, string>): boolean => compileLabelMatchers(m)(labels);

const errorsOf = (yaml: string, path = "rules/disk.yaml") => parseRuleFile(path, yaml).errors;

describe("rule file validation", () => {
  test("errors name the file, the rule and the field", () => {
    const errors = errorsOf(`
rules:
  - name: disk-full
    kind: threshold
    metric: system.filesystem.utilization
    warning: { op: ">", value: high }
`);
    assert.deepEqual(errors, ['rules/disk.yaml: rule "disk-full": warning.value: expected a number, got "high"']);
  });

  test("a rule without a usable name is named by its index", () => {
    const errors = errorsOf(`
rules:
  - { name: ok, kind: check }
  - { kind: rate, metric: m, warning: { op: ">", value: 1 } }
`);
    assert.deepEqual(errors, ["rules/disk.yaml: rules[1]: name: required", "rules/disk.yaml: rules[1]: window: required"]);
  });

  test("one problem per line, covering kinds, unknown fields, durations, regexes, templates and level sanity", () => {
    const errors = errorsOf(`
rules:
  - { name: a, kind: treshold }
  - { name: b, kind: threshold, metric: m, warning: { op: ">", value: 1 }, fro: 5m }
  - { name: c, kind: threshold, metric: m, warning: { op: ">", value: 1 }, for: soon }
  - { name: d, kind: threshold, metric: m, match: { mount: "~(" }, warning: { op: ">", value: 1 } }
  - { name: e, kind: threshold, metric: m, warning: { op: ">", value: 1 }, summary: "{{hots}}" }
  - { name: f, kind: threshold, metric: m, warning: { op: ">", value: 0.9 }, critical: { op: ">", value: 0.8 } }
  - { name: g, kind: threshold, metric: m, warning: { op: ">", value: 0.9, clear: 0.95 } }
  - { name: h, kind: threshold, metric: m }
  - { name: i, kind: absent, host_down: true, match: { mount: "/" } }
  - { name: j, kind: threshold, metric: m, reduce: { fn: avg }, critical: { op: "=>", value: 1 } }
  - { name: k, kind: threshold, metric: m, warning: { op: ">", value: 1 }, overrides: [{ match: { host: db-1 }, warning: { op: "<", value: 2 }, critical: { op: ">", value: 3 } }] }
`);
    assert.deepEqual(errors, [
      'rules/disk.yaml: rule "a": kind: expected one of "threshold", "rate", "absent", "check", got "treshold"',
      'rules/disk.yaml: rule "b": fro: unknown field',
      'rules/disk.yaml: rule "c": for: expected a duration like "5m" or "1m30s", got "soon"',
      'rules/disk.yaml: rule "d": match.mount: invalid regular expression "(": missing closing )',
      'rules/disk.yaml: rule "e": summary: unknown variable {{hots}} (known: host, value, severity, rule, metric, check, status, message, last_seen, labels.NAME)',
      'rules/disk.yaml: rule "f": warning.value: must be reached before critical.value (0.8) for op ">", got 0.9',
      'rules/disk.yaml: rule "g": warning.clear: must be on the clear side of value 0.9 for op ">" (at or below), got 0.95',
      'rules/disk.yaml: rule "h": needs a warning and/or a critical level',
      'rules/disk.yaml: rule "i": match.mount: host_down rules can match only host',
      'rules/disk.yaml: rule "j": critical.op: expected one of ">", ">=", "<", "<=", got "=>"',
      'rules/disk.yaml: rule "k": overrides[0].critical.op: must compare in the same direction as warning.op ("<"), got ">"',
    ]);
  });

  test("a file with any invalid rule loads none of its rules", () => {
    const r = parseRuleFile("x.yaml", `
rules:
  - { name: good, kind: check }
  - { name: bad, kind: check, severity_for: { unhealthy: none, degraded: none } }
`);
    assert.deepEqual(r.rules, []);
    assert.deepEqual(r.errors, ['x.yaml: rule "bad": severity_for: maps every status to none: the rule can never fire']);
  });

  test("YAML syntax errors and wrong top-level shapes", () => {
    assert.match(errorsOf("rules: [\n  { name: a", "r.yaml")[0]!, /^r\.yaml: invalid YAML at line \d+: /);
    assert.deepEqual(errorsOf("- a", "r.yaml"), ['r.yaml: expected a mapping with a "rules" list at the top level, got ["a"]']);
    assert.deepEqual(errorsOf("rules: 3", "r.yaml"), ["r.yaml: rules: expected a list, got 3"]);
    assert.deepEqual(parseRuleFile("r.yaml", ""), { rules: [], errors: [] });
  });

  test("rule-wide clear, per-severity for and defaults are normalized", () => {
    const r = parseRuleFile("x.yaml", `
rules:
  - name: t
    kind: threshold
    metric: m
    match: { cpu: "", n: 3 }
    warning: { op: "<", value: 0.2 }
    critical: { op: "<", value: 0.05 }
    clear: 0.3
    for: { critical: 1m }
    keep_firing_for: 90
`);
    assert.deepEqual(r.errors, []);
    const t = r.rules[0]!;
    assert.equal(t.kind, "threshold");
    if (t.kind !== "threshold") return;
    assert.deepEqual(t.match, { cpu: "", n: "3" });
    assert.equal(t.clear, 0.3);
    assert.deepEqual(t.forMs, { warning: 0, critical: 60_000 });
    assert.equal(t.keepFiringForMs, 90_000);
    assert.deepEqual(t.reduce, { fn: "last", overMs: 0 });
    assert.deepEqual(errorsOf(`rules: [{ name: t, kind: threshold, metric: m, warning: { op: "<", value: 0.2 }, clear: 0.1 }]`, "x.yaml"), [
      'x.yaml: rule "t": clear: must be on the clear side of value 0.2 for op "<" (at or above), got 0.1',
    ]);
  });
});

describe("rule directories", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-rules-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("invalid files are reported, valid ones still load; names are unique across files", () => {
    writeFileSync(join(dir, "a.yaml"), "rules:\n  - { name: disk-full, kind: threshold, metric: m, warning: { op: '>', value: 0.9 } }\n");
    writeFileSync(join(dir, "b.yml"), "rules:\n  - { name: broken, kind: threshold, metric: m, warning: { op: '>', value: nope } }\n");
    writeFileSync(join(dir, "c.yaml"), "rules:\n  - { name: disk-full, kind: check }\n  - { name: web-check, kind: check, check: nginx }\n");
    writeFileSync(join(dir, "notes.txt"), "not a rule file");
    const r = loadRuleFiles(dir);
    assert.deepEqual(r.rules.map((x) => x.name), ["disk-full", "web-check"]);
    assert.equal(r.rules[0]!.kind, "threshold", "the first definition wins");
    assert.deepEqual(r.errors, [
      `${join(dir, "b.yml")}: rule "broken": warning.value: expected a number, got "nope"`,
      `${join(dir, "c.yaml")}: rule "disk-full": name: duplicate rule name, already defined in ${join(dir, "a.yaml")} (this one is ignored)`,
    ]);
  });

  test("a missing directory is an error, not a crash", () => {
    const r = loadRuleFiles(join(dir, "nope"));
    assert.deepEqual(r.rules, []);
    assert.match(r.errors[0]!, /cannot read rule directory/);
  });
});

describe("default rules", () => {
  test("parse, are valid, and are the documented set", () => {
    const r = parseRuleFile("defaults.yaml", DEFAULT_RULES_YAML);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.rules.map((x) => x.name), [...DEFAULT_RULE_NAMES]);
    const byName = new Map(defaultRules().map((x) => [x.name, x]));
    const cpu = byName.get("cpu-high")!;
    assert.ok(cpu.kind === "threshold");
    assert.deepEqual(cpu.match, { state: "idle", cpu: "" });
    assert.deepEqual(cpu.reduce, { fn: "avg", overMs: 300_000 });
    assert.deepEqual([cpu.warning?.value, cpu.critical?.value], [0.2, 0.05]);
    const fs = byName.get("filesystem-full")!;
    assert.ok(fs.kind === "threshold");
    assert.deepEqual([fs.warning?.value, fs.critical?.value, fs.forMs.warning], [0.85, 0.95, 300_000]);
    const down = byName.get("host-down")!;
    assert.ok(down.kind === "absent" && down.hostDown && down.forMs === null);
    const check = byName.get("check-failing")!;
    assert.ok(check.kind === "check");
    assert.deepEqual(check.forMs, { warning: 300_000, critical: 60_000 });
    const storage = byName.get("storage-filling")!;
    assert.ok(storage.kind === "threshold");
    assert.equal(storage.metric, "vigil.storage.days_until_full");
    assert.deepEqual([storage.warning, storage.critical], [{ op: "<", value: 7, clear: 8 }, { op: "<", value: 2, clear: 3 }]);
    assert.deepEqual(storage.forMs, { warning: 0, critical: 0 });
  });

  test("disabled by name, replaced by a user rule of the same name; unknown names reported", () => {
    const user = parseRuleFile("u.yaml", "rules:\n  - { name: memory-high, kind: threshold, metric: system.memory.utilization, match: { state: used }, warning: { op: '>', value: 0.9 } }\n").rules;
    const r = combineRules(defaultRules(), user, ["cpu-high", "cpu-hgih"]);
    assert.deepEqual(r.rules.map((x) => x.name), ["filesystem-full", "host-down", "check-failing", "storage-filling", "memory-high"]);
    const mem = r.rules.find((x) => x.name === "memory-high")!;
    assert.ok(mem.kind === "threshold" && mem.warning?.value === 0.9);
    assert.deepEqual(r.errors, ['disabled rule "cpu-hgih": no such rule']);
  });
});

describe("matcher syntax", () => {
  const labels = { host: "web-1", mountpoint: "/var", state: "~odd" };
  test("exact, absent, regex (anchored), negations and literal escape", () => {
    assert.ok(silenceMatches(labels, { host: "web-1" }));
    assert.ok(silenceMatches(labels, { cpu: "" }), "missing label reads as empty");
    assert.ok(!silenceMatches(labels, { mountpoint: "" }));
    assert.ok(silenceMatches(labels, { host: "~web-\\d+" }));
    assert.ok(!silenceMatches(labels, { host: "~web" }), "regexes are anchored");
    assert.ok(silenceMatches(labels, { host: "!db-1" }));
    assert.ok(!silenceMatches(labels, { host: "!~web-.*" }));
    assert.ok(silenceMatches(labels, { mountpoint: "!" }), "'!' alone: present");
    assert.ok(!silenceMatches(labels, { cpu: "!" }));
    assert.ok(silenceMatches(labels, { state: "=~odd" }), "'=' makes the rest literal");
    assert.ok(!silenceMatches(labels, { state: "~odd" }));
  });

  test("compiled matchers take host apart from the labels", () => {
    const m = compileMatchers({ host: "~db-.*", cpu: "" });
    assert.ok(m("db-2", { state: "idle" }));
    assert.ok(!m("db-2", { state: "idle", cpu: "0" }));
    assert.ok(!m("web-1", {}));
  });
});
