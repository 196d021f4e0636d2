// A set of label matchers as given by a user (silences, rules, stored rows): bounded in count, label names and
// values, every pattern checked by the matcher engine. Problems name the field ("matchers.host: …").
import { MAX_PATTERN_LENGTH } from "@vigil/shared/label-matchers";
import { textProblem } from "../text-input.js";
import { patternProblem } from "./matchers.js";
import type { Matchers } from "./types.js";

export const MAX_MATCHERS = 32;
export const MAX_LABEL_NAME_LENGTH = 128;
/** Label names: letters, digits and _ . : - (as series keys print them unquoted), starting with a letter or _. */
export const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]*$/;

export interface MatcherProblem {
  path: string;
  message: string;
}

/** Problems of one label name, or null. */
export function labelNameProblem(name: string): string | null {
  if (name.length > MAX_LABEL_NAME_LENGTH) return `label name longer than ${MAX_LABEL_NAME_LENGTH} characters`;
  if (!LABEL_NAME.test(name)) return `label name ${JSON.stringify(name.slice(0, 60))}: expected letters, digits and _ . : - (starting with a letter or _)`;
  return null;
}

/** Problems of one pattern (`v`, `~re`, `!v`, …), or null. */
export function matcherValueProblem(pattern: string): string | null {
  return textProblem(pattern, { max: MAX_PATTERN_LENGTH + 3 }) ?? patternProblem(pattern);
}

/** Validates a matcher set; `empty: false` refuses an empty one (a silence must match something specific). */
export function validateMatcherSet(raw: unknown, path: string, opts: { empty: boolean }): { ok: true; matchers: Matchers } | { ok: false; problems: MatcherProblem[] } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return { ok: false, problems: [{ path, message: "expected a mapping of label matchers" }] };
  const entries = Object.entries(raw);
  if (entries.length === 0 && !opts.empty) return { ok: false, problems: [{ path, message: "expected at least one label matcher" }] };
  if (entries.length > MAX_MATCHERS) return { ok: false, problems: [{ path, message: `at most ${MAX_MATCHERS} matchers, got ${entries.length}` }] };
  const problems: MatcherProblem[] = [];
  const valid: [string, string][] = [];
  for (const [name, value] of entries) {
    const nameProblem = labelNameProblem(name);
    if (nameProblem) {
      problems.push({ path, message: nameProblem });
      continue;
    }
    if (typeof value !== "string") {
      problems.push({ path: `${path}.${name}`, message: "expected a string" });
      continue;
    }
    const p = matcherValueProblem(value);
    if (p) problems.push({ path: `${path}.${name}`, message: p });
    else valid.push([name, value]);
  }
  // fromEntries defines properties: a "__proto__" label stays a label, never the object's prototype.
  return problems.length > 0 ? { ok: false, problems } : { ok: true, matchers: Object.fromEntries(valid) };
}
