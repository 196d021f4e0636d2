// Rule matchers: the shared label matcher syntax (see @vigil/shared/label-matchers; silences use it directly), with
// `host` passed apart for samples so callers need not build a merged label object.
import type { Labels } from "@vigil/shared";
import { clauseMatches, matcherPatternProblem, parseMatcherClause } from "@vigil/shared/label-matchers";
import type { Matchers } from "./types.js";

/** A compiled matcher; `host` is passed apart so callers need not build a merged label object. */
export type SeriesMatcher = (host: string, labels: Labels) => boolean;

/** Checks a pattern's syntax; returns the problem or null. */
export const patternProblem = matcherPatternProblem;

export function compileMatchers(matchers: Matchers): SeriesMatcher {
  const clauses = Object.entries(matchers).map(([k, v]) => parseMatcherClause(k, v));
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
