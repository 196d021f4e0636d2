// The engine names the metrics its rules evaluate: ingest builds alert-evaluation points only for those.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "@vigil/shared";
import { RuleEngine } from "../src/rules/engine.js";
import { parseRuleFile } from "../src/rules/rule-loader.js";
import type { Rule } from "../src/rules/types.js";

function rules(yaml: string): Rule[] {
  const r = parseRuleFile("test.yaml", yaml);
  assert.deepEqual(r.errors, []);
  return r.rules;
}

test("watches: the metrics of threshold and series-absence rules, following setRules", () => {
  const engine = new RuleEngine({
    rules: rules(`
rules:
  - { name: hot, kind: threshold, metric: cpu, critical: { op: ">", value: 1 } }
  - { name: gone, kind: absent, metric: disk.free, for: 5m }
  - { name: down, kind: absent, host_down: true }
`),
    clock: new ManualClock(Date.UTC(2026, 10, 23)),
  });
  assert.equal(engine.watches("cpu"), true);
  assert.equal(engine.watches("disk.free"), true);
  assert.equal(engine.watches("mem"), false, "no rule evaluates it");
  engine.setRules(rules(`
rules:
  - { name: mem, kind: threshold, metric: mem, warning: { op: ">", value: 1 } }
`));
  assert.equal(engine.watches("mem"), true);
  assert.equal(engine.watches("cpu"), false, "its rule is gone");
});
