import { formatDuration, parseDuration, type Labels } from "@vigil/shared";
import { compileLabelMatchers, matcherPatternProblem, parseMatcherClause } from "@vigil/shared/label-matchers";
import { badParam } from "../errors.js";

/** Times the API accepts: 1970-01-01 to 9999-12-31 (what an RFC 3339 year holds; Postgres stores all of it). */
export const MIN_TIME_MS = 0;
export const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Longest query or path parameter value, and name, accepted at all. */
const MAX_VALUE_CHARS = 2048;
const MAX_NAME_CHARS = 256;
/** Most `match[…]` parameters in one query. */
const MAX_MATCHERS = 32;

// C0 controls and DEL: never part of a host, metric, label or time, and NUL is refused by Postgres text.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A value quoted back in a message, cut short when long. */
export const quoted = (s: string) => JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);

/** Checks the query or path parameters of a request before any route sees them: no control characters, bounded lengths. */
export function checkRequestStrings(params: unknown): void {
  if (typeof params !== "object" || params === null) return;
  for (const [name, raw] of Object.entries(params)) {
    if (CONTROL.test(name) || name.length > MAX_NAME_CHARS) throw badParam(quoted(name), "not a valid parameter name");
    for (const v of Array.isArray(raw) ? raw : [raw]) {
      if (typeof v !== "string") continue;
      const c = CONTROL.exec(v);
      if (c) throw badParam(name, `contains the control character U+${c[0].charCodeAt(0).toString(16).padStart(4, "0").toUpperCase()}`);
      if (v.length > MAX_VALUE_CHARS) throw badParam(name, `longer than ${MAX_VALUE_CHARS} characters`);
    }
  }
}

/** Refuses times outside 1970–9999 (and NaN, ±Infinity), naming the parameter. */
export function checkTime(param: string, ms: number): number {
  if (!Number.isFinite(ms) || ms < MIN_TIME_MS || ms > MAX_TIME_MS) {
    throw badParam(param, "must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z");
  }
  return ms;
}

/**
 * A point in time: unix seconds ("1700000000", "1700000000.5"), RFC 3339 ("2026-11-23T10:00:00Z"),
 * "now", or relative to now ("-1h", "-30m", "now-15m"); between 1970 and 9999.
 */
export function parseTime(param: string, text: string | undefined, nowMs: number, fallback: number): number {
  if (text === undefined || text === "") return fallback;
  const s = text.trim();
  const expected = `expected unix seconds, RFC 3339 or a relative time like "-1h", got ${quoted(text)}`;
  if (s === "now") return nowMs;
  const rel = /^(?:now)?-(.+)$/.exec(s);
  if (rel) {
    let ago: number;
    try {
      ago = parseDuration(rel[1]!, param);
    } catch {
      throw badParam(param, expected);
    }
    return checkTime(param, nowMs - ago);
  }
  if (/^\d+(\.\d+)?$/.test(s)) return checkTime(param, Math.round(Number(s) * 1000));
  if (/^\d{4}-\d{2}-\d{2}T/.test(s)) {
    const t = Date.parse(s);
    if (!Number.isNaN(t)) return checkTime(param, t);
  }
  throw badParam(param, expected);
}

/** A step: a duration ("15s", "1m") or a number of seconds; at least 1s and at most the range (or 1s). */
export function parseStep(text: string | undefined, fallback: number, rangeMs: number): number {
  if (text === undefined || text === "") return fallback;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Math.round(Number(text) * 1000);
  else {
    try {
      ms = parseDuration(text, "step");
    } catch {
      throw badParam("step", `expected a duration like "15s" or a number of seconds, got ${quoted(text)}`);
    }
  }
  if (!(ms >= 1000)) throw badParam("step", `must be at least 1s, got ${quoted(text)}`);
  if (ms > Math.max(rangeMs, 1000)) throw badParam("step", `must not be longer than the range (${formatDuration(rangeMs) || "0s"}), got ${quoted(text)}`);
  return ms;
}

export interface QueryMatchers {
  /** Labels that must equal a value exactly (a pre-filter storage can apply). */
  exact: Labels;
  /** The whole test of a series' labels (`host` included). */
  accept: (labels: Labels) => boolean;
}

/**
 * `match[LABEL]=PATTERN` parameters in the shared matcher syntax (`v`, `""`, `~re`, `!v`, `!~re`, `=text`).
 * A parameter named `match` or `match[…` that is not of that form, a repeated one or a bad pattern is refused.
 */
export function parseMatchers(query: Record<string, unknown>): QueryMatchers {
  const patterns: Record<string, string> = {};
  let count = 0;
  for (const [key, v] of Object.entries(query)) {
    if (!/^match(\[|$)/.test(key)) continue;
    const m = /^match\[([^[\]]+)\]$/.exec(key);
    if (!m) throw badParam(key, "expected match[LABEL]=PATTERN, e.g. match[state]=~us.*");
    if (typeof v !== "string") throw badParam(key, "must be given once");
    if (++count > MAX_MATCHERS) throw badParam(key, `at most ${MAX_MATCHERS} matchers`);
    const problem = matcherPatternProblem(v);
    if (problem) throw badParam(key, problem);
    patterns[m[1]!] = v;
  }
  const exact: Labels = {};
  for (const [name, pattern] of Object.entries(patterns)) {
    const c = parseMatcherClause(name, pattern);
    if (c.exact !== null && c.exact !== "" && !c.negate) exact[name] = c.exact;
  }
  return { exact, accept: compileLabelMatchers(patterns) };
}
