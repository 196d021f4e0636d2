// Rows read back from storage (silences, API rules, open alerts) are checked like fresh input: a row written by an
// older version, by hand, or by a bug is skipped and reported, never allowed to crash the process or stop evaluation.
import { compileLabelMatchers } from "@vigil/shared/label-matchers";
import type { Labels } from "@vigil/shared";
import { parseStoredInstance } from "./instance-schema.js";
import { validateMatcherSet } from "./matcher-set.js";
import { validateRule } from "./rule-schema.js";
import type { Silence, StoredSilence } from "./ports.js";
import type { AlertInstance, Rule } from "./types.js";

export interface InvalidRow {
  /** The row's id (silences, alerts) or name (API rules). */
  id: string;
  problem: string;
}

export interface ActiveSilence extends Silence {
  test: (labels: Labels) => boolean;
}

export function readSilences(rows: readonly StoredSilence[]): { silences: ActiveSilence[]; invalid: InvalidRow[] } {
  const silences: ActiveSilence[] = [];
  const invalid: InvalidRow[] = [];
  for (const row of rows) {
    const m = validateMatcherSet(row.matchers, "matchers", { empty: false });
    if (!m.ok) invalid.push({ id: row.id, problem: m.problems.map((p) => `${p.path}: ${p.message}`).join("; ") });
    else if (!Number.isFinite(row.startsAt) || !Number.isFinite(row.endsAt) || row.endsAt <= row.startsAt) invalid.push({ id: row.id, problem: "endsAt: must be after startsAt" });
    else silences.push({ ...row, matchers: m.matchers, test: compileLabelMatchers(m.matchers) });
  }
  return { silences, invalid };
}

export function readApiRules(rows: readonly { name: string; spec: unknown }[]): { rules: Rule[]; invalid: InvalidRow[] } {
  const rules: Rule[] = [];
  const invalid: InvalidRow[] = [];
  for (const row of rows) {
    const v = validateRule(row.spec);
    if (!v.ok) invalid.push({ id: row.name, problem: v.problems.map((p) => `${p.path || "(rule)"}: ${p.message}`).join("; ") });
    else if (v.rule.name !== row.name) invalid.push({ id: row.name, problem: `name: the stored spec is named ${JSON.stringify(v.rule.name)}` });
    else rules.push(v.rule);
  }
  return { rules, invalid };
}

export function readInstances(rows: readonly { id: string; instance: unknown }[]): { instances: AlertInstance[]; invalid: InvalidRow[] } {
  const instances: AlertInstance[] = [];
  const invalid: InvalidRow[] = [];
  for (const row of rows) {
    const r = parseStoredInstance(row.instance);
    if (!r.ok) invalid.push({ id: row.id, problem: r.problem });
    else if (r.instance.id !== row.id) invalid.push({ id: row.id, problem: `id: the stored instance has id ${JSON.stringify(r.instance.id)}` });
    else instances.push(r.instance);
  }
  return { instances, invalid };
}
