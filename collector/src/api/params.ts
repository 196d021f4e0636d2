import { parseDuration } from "@vigil/shared";
import { badParam } from "../errors.js";
import type { Aggregation } from "./ports.js";

const AGGS: readonly Aggregation[] = ["avg", "min", "max", "last", "sum"];

/**
 * A point in time: unix seconds ("1700000000", "1700000000.5"), RFC 3339 ("2026-11-23T10:00:00Z"),
 * "now", or relative to now ("-1h", "-30m", "now-15m").
 */
export function parseTime(param: string, text: string | undefined, nowMs: number, fallback: number): number {
  if (text === undefined || text === "") return fallback;
  const s = text.trim();
  if (s === "now") return nowMs;
  const rel = /^(?:now)?-(.+)$/.exec(s);
  if (rel) {
    try {
      return nowMs - parseDuration(rel[1]!, param);
    } catch {
      throw badParam(param, `expected unix seconds, RFC 3339 or a relative time like "-1h", got ${JSON.stringify(text)}`);
    }
  }
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  if (/^\d{4}-\d{2}-\d{2}T/.test(s)) {
    const t = Date.parse(s);
    if (!Number.isNaN(t)) return t;
  }
  throw badParam(param, `expected unix seconds, RFC 3339 or a relative time like "-1h", got ${JSON.stringify(text)}`);
}

/** A step: a duration ("15s", "1m") or a number of seconds. */
export function parseStep(text: string | undefined, fallback: number): number {
  if (text === undefined || text === "") return fallback;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Math.round(Number(text) * 1000);
  else {
    try {
      ms = parseDuration(text, "step");
    } catch {
      throw badParam("step", `expected a duration like "15s" or a number of seconds, got ${JSON.stringify(text)}`);
    }
  }
  if (ms < 1000) throw badParam("step", `must be at least 1s, got ${JSON.stringify(text)}`);
  return ms;
}

export function parseAgg(text: string | undefined): Aggregation {
  if (text === undefined || text === "") return "avg";
  if ((AGGS as readonly string[]).includes(text)) return text as Aggregation;
  throw badParam("agg", `expected one of ${AGGS.join(", ")}, got ${JSON.stringify(text)}`);
}

/** `match[k]=v` query parameters, as label matchers. */
export function parseMatch(query: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) {
    const m = /^match\[(.+)\]$/.exec(k);
    if (!m) continue;
    if (typeof v !== "string") throw badParam(k, "must be given once");
    out[m[1]!] = v;
  }
  return out;
}

export function requireString(query: Record<string, unknown>, param: string): string {
  const v = query[param];
  if (typeof v !== "string" || v === "") throw badParam(param, "is required");
  return v;
}

export function optionalString(query: Record<string, unknown>, param: string): string | undefined {
  const v = query[param];
  if (v === undefined || v === "") return undefined;
  if (typeof v !== "string") throw badParam(param, "must be given once");
  return v;
}
