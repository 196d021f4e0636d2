// Label matcher syntax, shared by alert rules, silences, notification routes and range queries:
//
//   key: value     the label equals value
//   key: ""        the label is absent (a missing label reads as "", as in Prometheus)
//   key: "~re"     the label fully matches the regular expression re (anchored: "~web-.*", not "~web")
//   key: "!value"  the label differs from value; "!" alone: the label is present (not empty)
//   key: "!~re"    the label does not fully match re
//   key: "=text"   the label equals text literally, for values that start with "~", "!" or "="
//
// Regular expressions have RE2 syntax and run on re2js, a linear-time engine (as Prometheus uses Go's RE2): a pattern
// from a silence or a query can never make matching backtrack exponentially and freeze the process.
import { RE2JS } from "re2js";
import type { Labels } from "./labels.js";

/** Longest pattern accepted; longer ones are refused (they are typos or attacks, not label matchers). */
export const MAX_PATTERN_LENGTH = 1024;

export type LabelMatcherClause = { name: string; negate: boolean; exact: string | null; re: RE2JS | null };

export class MatcherSyntaxError extends Error {}

// Compiled regexes by source. Bounded: silences and queries may bring arbitrary patterns.
const regexCache = new Map<string, RE2JS>();
const REGEX_CACHE_MAX = 1000;

function compileRegex(source: string): RE2JS {
  let re = regexCache.get(source);
  if (re) return re;
  if (source.length > MAX_PATTERN_LENGTH) {
    throw new MatcherSyntaxError(`regular expression longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  try {
    re = RE2JS.compile(source);
  } catch (err) {
    throw new MatcherSyntaxError(`invalid regular expression ${JSON.stringify(source)}: ${(err as Error).message.replace(/^error parsing regexp: /, "").replace(/: `[^]*`$/, "")}`);
  }
  if (regexCache.size >= REGEX_CACHE_MAX) regexCache.clear();
  regexCache.set(source, re);
  return re;
}

/** Parses one pattern; throws a MatcherSyntaxError saying what is wrong with it. */
export function parseMatcherClause(name: string, pattern: string): LabelMatcherClause {
  let p = pattern;
  let negate = false;
  if (p.startsWith("=")) return { name, negate, exact: p.slice(1), re: null };
  if (p.startsWith("!")) {
    negate = true;
    p = p.slice(1);
    if (p.startsWith("=")) return { name, negate, exact: p.slice(1), re: null };
  }
  if (p.startsWith("~")) return { name, negate, exact: null, re: compileRegex(p.slice(1)) };
  return { name, negate, exact: p, re: null };
}

/** Checks a pattern's syntax; returns the problem or null. */
export function matcherPatternProblem(pattern: string): string | null {
  try {
    parseMatcherClause("x", pattern);
    return null;
  } catch (err) {
    if (err instanceof MatcherSyntaxError) return err.message;
    throw err;
  }
}

/** Does one clause accept this label value? (`matches` is RE2's full match: anchored at both ends.) */
export function clauseMatches(c: LabelMatcherClause, value: string): boolean {
  const hit = c.exact !== null ? value === c.exact : c.re!.matches(value);
  return hit !== c.negate;
}

/** Compiles a set of matchers once; the result tests label sets (a missing label reads as ""). */
export function compileLabelMatchers(matchers: Readonly<Record<string, string>>): (labels: Labels) => boolean {
  const clauses = Object.entries(matchers).map(([k, v]) => parseMatcherClause(k, v));
  return (labels) => clauses.every((c) => clauseMatches(c, labels[c.name] ?? ""));
}
