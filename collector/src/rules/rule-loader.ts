// Rule files: a directory of *.yaml / *.yml, each `{ rules: [...] }`. A file with any invalid rule is reported
// and skipped as a whole (half a file loaded would surprise); the other files still load.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { show, validateRule } from "./rule-schema.js";
import type { Rule } from "./types.js";

export interface RuleLoadResult {
  rules: Rule[];
  /** One line per problem: `FILE: rule "NAME": FIELD: message`. */
  errors: string[];
}

function ruleLabel(raw: unknown, index: number): string {
  const name = raw !== null && typeof raw === "object" ? (raw as Record<string, unknown>).name : undefined;
  return typeof name === "string" && name !== "" ? `rule ${JSON.stringify(name)}` : `rules[${index}]`;
}

/** Parses and validates one rule file's text; `path` only names it in errors. */
export function parseRuleFile(path: string, text: string): RuleLoadResult {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : "";
    return { rules: [], errors: [`${path}: invalid YAML${where}: ${(err as Error).message.split("\n")[0]}`] };
  }
  if (doc === null || doc === undefined) return { rules: [], errors: [] };
  if (typeof doc !== "object" || Array.isArray(doc)) return { rules: [], errors: [`${path}: expected a mapping with a "rules" list at the top level, got ${show(doc)}`] };
  const errors: string[] = [];
  for (const k of Object.keys(doc)) if (k !== "rules") errors.push(`${path}: ${k}: unknown field (a rule file holds only "rules")`);
  const list = (doc as Record<string, unknown>).rules;
  if (list === undefined || list === null) return { rules: [], errors };
  if (!Array.isArray(list)) return { rules: [], errors: [...errors, `${path}: rules: expected a list, got ${show(list)}`] };
  const rules: Rule[] = [];
  const seen = new Set<string>();
  list.forEach((raw: unknown, i) => {
    const where = `${path}: ${ruleLabel(raw, i)}`;
    const r = validateRule(raw);
    if (!r.ok) {
      for (const p of r.problems) errors.push(p.path ? `${where}: ${p.path}: ${p.message}` : `${where}: ${p.message}`);
      return;
    }
    if (seen.has(r.rule.name)) errors.push(`${where}: name: duplicate rule name, already defined earlier in ${path}`);
    seen.add(r.rule.name);
    rules.push(r.rule);
  });
  return errors.length > 0 ? { rules: [], errors } : { rules, errors };
}

/** Loads every rule file in `dir` (sorted by name); rule names must be unique across files. */
export function loadRuleFiles(dir: string): RuleLoadResult {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    return { rules: [], errors: [`${dir}: cannot read rule directory: ${(err as Error).message}`] };
  }
  const rules: Rule[] = [];
  const errors: string[] = [];
  const origin = new Map<string, string>();
  for (const name of names) {
    const path = join(dir, name);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      errors.push(`${path}: cannot read rule file: ${(err as Error).message}`);
      continue;
    }
    const r = parseRuleFile(path, text);
    errors.push(...r.errors);
    for (const rule of r.rules) {
      const first = origin.get(rule.name);
      if (first !== undefined) {
        errors.push(`${path}: rule ${JSON.stringify(rule.name)}: name: duplicate rule name, already defined in ${first} (this one is ignored)`);
        continue;
      }
      origin.set(rule.name, path);
      rules.push(rule);
    }
  }
  return { rules, errors };
}

/**
 * The rules to run: the defaults, minus those disabled by name, with a user rule of the same name replacing the
 * default. Unknown names in `disabled` are reported (a typo would otherwise leave a default silently on).
 */
export function combineRules(defaults: readonly Rule[], user: readonly Rule[], disabled: readonly string[] = []): RuleLoadResult {
  const off = new Set(disabled);
  const errors: string[] = [];
  const known = new Set([...defaults, ...user].map((r) => r.name));
  for (const name of off) if (!known.has(name)) errors.push(`disabled rule ${JSON.stringify(name)}: no such rule`);
  const userNames = new Set(user.map((r) => r.name));
  const rules = [...defaults.filter((r) => !userNames.has(r.name)), ...user].filter((r) => !off.has(r.name));
  return { rules, errors };
}
