// Label matcher syntax, shared by rules (`match`, `overrides[].match`, `check`) and silences:
//
//   key: value     the label equals value (YAML numbers and booleans are compared as text)
//   key: ""        the label is absent (a missing label reads as "", as in Prometheus)
//   key: "~re"     the label fully matches the regular expression re (anchored: "~web-.*", not "~web")
//   key: "!value"  the label differs from value; "!" alone: the label is present (not empty)
//   key: "!~re"    the label does not fully match re
//   key: "=text"   the label equals text literally, for values that start with "~", "!" or "="
//
// `host` is a label like any other: for samples it is the point's host.
import type { Labels } from "@vigil/shared";
import type { Matchers } from "./types.js";

/** A compiled matcher; `host` is passed apart so callers need not build a merged label object. */
export type SeriesMatcher = (host: string, labels: Labels) => boolean;

type Clause = { name: string; negate: boolean; exact: string | null; re: RegExp | null };

/** Parses one pattern; throws an Error whose message says what is wrong with the regex. */
function parseClause(name: string, pattern: string): Clause {
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

const regexCache = new Map<string, RegExp>();

function compileRegex(source: string): RegExp {
  let re = regexCache.get(source);
  if (!re) {
    try {
      re = new RegExp(`^(?:${source})$`, "u");
    } catch (err) {
      throw new Error(`invalid regular expression ${JSON.stringify(source)}: ${(err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, "")}`);
    }
    // Bounded: silences may bring arbitrary patterns.
    if (regexCache.size >= 1000) regexCache.clear();
    regexCache.set(source, re);
  }
  return re;
}

/** Checks a pattern's syntax; returns the problem or null. */
export function patternProblem(pattern: string): string | null {
  try {
    parseClause("x", pattern);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function clauseMatches(c: Clause, value: string): boolean {
  const hit = c.exact !== null ? value === c.exact : c.re!.test(value);
  return hit !== c.negate;
}

export function compileMatchers(matchers: Matchers): SeriesMatcher {
  const clauses = Object.entries(matchers).map(([k, v]) => parseClause(k, v));
  if (clauses.length === 0) return () => true;
  return (host, labels) => {
    for (let i = 0; i < clauses.length; i++) {
      const c = clauses[i]!;
      const v = c.name === "host" ? host : (labels[c.name] ?? "");
      if (!clauseMatches(c, v)) return false;
    }
    return true;
  };
}

/** True when every matcher matches `labels` (which carry `host` themselves); same syntax as rules. */
export function matchesSilence(labels: Labels, matchers: Matchers): boolean {
  for (const [name, pattern] of Object.entries(matchers)) {
    if (!clauseMatches(parseClause(name, pattern), labels[name] ?? "")) return false;
  }
  return true;
}
