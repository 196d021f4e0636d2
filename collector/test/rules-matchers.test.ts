// Matchers from users (rules, silences, notification routes) run on RE2 in linear time: a pattern built to make a
// backtracking engine explode costs next to nothing, even over long values. Matcher sets are bounded.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { compileLabelMatchers } from "@vigil/shared/label-matchers";
import { parse as parseYaml } from "yaml";
import { compileMatchers } from "../src/rules/matchers.js";
import { validateMatcherSet, MAX_MATCHERS } from "../src/rules/matcher-set.js";
import { validateRule } from "../src/rules/rule-schema.js";
import { parsePolicyConfig } from "../src/notify/routing/index.js";
import { Router } from "../src/notify/routing/router.js";

const CATASTROPHIC = ["~(.*)*x", "~(.*)*(.*)*(.*)*(.*)*(.*)*x", "~(a|aa)*c", "~(a+)+b", "~(x+x+)+y", "!~(a|a)*b", "~((a*)*)*b"];
const VALUE = "a".repeat(10_000);

/** Milliseconds for the slower of two runs (the first compiles and warms up). */
function timed(fn: () => void): number {
  fn();
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

describe("catastrophic patterns finish fast over a 10 kB value", () => {
  for (const p of CATASTROPHIC) {
    test(`rules: ${p}`, () => {
      const m = compileMatchers({ host: p, note: p });
      const ms = timed(() => m("h", { note: VALUE }));
      assert.ok(ms < 50, `${ms.toFixed(1)} ms`);
    });
    test(`silences: ${p}`, () => {
      const m = compileLabelMatchers({ note: p });
      const ms = timed(() => m({ note: VALUE }));
      assert.ok(ms < 50, `${ms.toFixed(1)} ms`);
    });
  }

  test("notification routes and inhibit rules", () => {
    const config = parsePolicyConfig(
      parseYaml(`
route:
  receivers: [a]
  routes:
    - { match: { note: "~(a|aa)*c" }, receivers: [b] }
    - { match: { note: "~(.*)*(.*)*(.*)*x" }, receivers: [c] }
inhibit_rules:
  - { source_match: { note: "~(a+)+b" }, target_match: { note: "~(x+x+)+y" }, equal: [host] }
`),
    );
    const router = new Router(config);
    const ms = timed(() => router.routes({ host: "h", note: VALUE }));
    assert.ok(ms < 50, `${ms.toFixed(1)} ms`);
    assert.deepEqual(router.routes({ host: "h", note: VALUE }).map((r) => r.receivers), [["a"]]);
  });

  test("the whole pattern must match (anchored), as in Prometheus", () => {
    const m = compileLabelMatchers({ host: "~web-[0-9]+" });
    assert.ok(m({ host: "web-12" }));
    assert.ok(!m({ host: "xweb-12" }));
    assert.ok(!m({ host: "web-12x" }));
  });
});

describe("matcher sets are bounded and checked", () => {
  const problems = (raw: unknown) => {
    const r = validateMatcherSet(raw, "matchers", { empty: false });
    return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
  };

  test("the issue's silence: an invalid regex names the field and the problem", () => {
    assert.match(problems({ host: "~((" })[0]!, /^matchers\.host: invalid regular expression "\(\(": missing closing \)/);
  });

  test("lookaround and backreferences are not RE2: refused, not mis-run", () => {
    assert.match(problems({ host: "~(?=a)a" })[0]!, /^matchers\.host: invalid regular expression/);
    assert.match(problems({ host: "~(a)\\1" })[0]!, /^matchers\.host: invalid regular expression/);
  });

  test("count, names, values", () => {
    assert.match(problems({})[0]!, /^matchers: expected at least one/);
    assert.match(problems([])[0]!, /^matchers: expected a mapping/);
    assert.match(problems(Object.fromEntries(Array.from({ length: MAX_MATCHERS + 1 }, (_, i) => [`l${i}`, "x"])))[0]!, /^matchers: at most 32 matchers/);
    assert.match(problems({ "a b": "x" })[0]!, /^matchers: label name "a b"/);
    assert.match(problems({ ["x".repeat(129)]: "x" })[0]!, /^matchers: label name longer than 128/);
    assert.match(problems({ host: 5 })[0]!, /^matchers\.host: expected a string/);
    assert.match(problems({ host: "a\u0000" })[0]!, /^matchers\.host: control character U\+0000/);
    assert.match(problems({ host: "~" + "a".repeat(1100) })[0]!, /^matchers\.host: /);
    assert.deepEqual(problems({ host: "~web-.*", "dev.name": "!", "x:y-z": "=~lit" }), []);
    const proto = validateMatcherSet(JSON.parse('{"__proto__":"x","host":"y"}'), "matchers", { empty: false });
    assert.ok(proto.ok);
    assert.deepEqual(Object.entries(proto.matchers), [["__proto__", "x"], ["host", "y"]], "a __proto__ label stays a label");
  });

  test("rules get the same checks, and bounded names, labels and summaries", () => {
    const base = { name: "r", kind: "threshold", metric: "m", critical: { op: ">", value: 1 } };
    const paths = (spec: Record<string, unknown>) => {
      const v = validateRule({ ...base, ...spec });
      return v.ok ? [] : v.problems.map((p) => `${p.path}: ${p.message}`);
    };
    assert.match(paths({ match: { host: "~((" } })[0]!, /^match\.host: invalid regular expression/);
    assert.match(paths({ match: { "bad name": "x" } })[0]!, /^match\.bad name: label name/);
    assert.match(paths({ name: "n".repeat(200) })[0]!, /^name: at most 128/);
    assert.match(paths({ labels: { team: "a\u0000" } })[0]!, /^labels\.team: control character/);
    assert.match(paths({ summary: "s".repeat(2000) })[0]!, /^summary: at most 1024/);
    assert.match(paths({ metric: "m\u0007" })[0]!, /^metric: control character/);
    assert.deepEqual(paths({ match: { state: "~user|system" }, labels: { team: "ops" }, summary: "{{host}} is {{value}}" }), []);
  });
});
