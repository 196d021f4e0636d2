// The two small notations of rule test files: series selectors and promtool's expanding values.
import type { Labels } from "@vigil/shared";

/** At most this many values per input (a typo like 0x1e9 must not exhaust memory). */
export const MAX_VALUES = 100_000;

const NUM = String.raw`[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?`;
const RAMP = new RegExp(String.raw`^(${NUM})(?:([+-])((?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?))?x(\d+)$`, "i");
const PLAIN = new RegExp(`^${NUM}$`, "i");

/**
 * Expands promtool's notation, one value per interval: `a` a number, `axn` a repeated n more times (n+1 values),
 * `a+bxn` / `a-bxn` a ramp of n+1 values from a, `_` a missing sample, `_xn` n missing samples.
 * Missing samples are null. Throws with the token and its position.
 */
export function expandValues(text: string): (number | null)[] {
  const out: (number | null)[] = [];
  const tokens = text.trim() === "" ? [] : text.trim().split(/\s+/);
  tokens.forEach((tok, i) => {
    const where = `value ${i + 1} ${JSON.stringify(tok)}`;
    const gap = /^_(?:x(\d+))?$/.exec(tok);
    if (gap) {
      const n = gap[1] === undefined ? 1 : Number(gap[1]);
      if (out.length + n > MAX_VALUES) throw new Error(`${where}: more than ${MAX_VALUES} values`);
      for (let k = 0; k < n; k++) out.push(null);
      return;
    }
    if (PLAIN.test(tok)) {
      out.push(Number(tok));
      return;
    }
    const ramp = RAMP.exec(tok);
    if (!ramp) throw new Error(`${where}: expected a number, "a x n" (repeat), "a+b x n" (ramp), "_" or "_ x n" written without spaces, like 0.9x5 or 1+2x3`);
    const start = Number(ramp[1]);
    const step = ramp[3] === undefined ? 0 : (ramp[2] === "-" ? -1 : 1) * Number(ramp[3]);
    const n = Number(ramp[4]);
    if (out.length + n + 1 > MAX_VALUES) throw new Error(`${where}: more than ${MAX_VALUES} values`);
    // a + k*b rather than a running sum: no drift over long ramps.
    for (let k = 0; k <= n; k++) out.push(start + k * step);
  });
  return out;
}

export const CHECK_STATUSES = ["healthy", "degraded", "unhealthy"] as const;
export type CheckStatusName = (typeof CHECK_STATUSES)[number];

/** Health-check results in the same notation: `healthy`, `unhealthyx3` (4 runs), `_` / `_xn` no run. */
export function expandStatuses(text: string): (CheckStatusName | null)[] {
  const out: (CheckStatusName | null)[] = [];
  const tokens = text.trim() === "" ? [] : text.trim().split(/\s+/);
  tokens.forEach((tok, i) => {
    const m = /^(healthy|degraded|unhealthy|_)(?:x(\d+))?$/.exec(tok);
    if (!m) throw new Error(`value ${i + 1} ${JSON.stringify(tok)}: expected healthy, degraded, unhealthy or _, optionally with xN, like unhealthyx3`);
    const status = m[1] === "_" ? null : (m[1] as CheckStatusName);
    const n = m[2] === undefined ? 1 : status === null ? Number(m[2]) : Number(m[2]) + 1;
    if (out.length + n > MAX_VALUES) throw new Error(`value ${i + 1} ${JSON.stringify(tok)}: more than ${MAX_VALUES} values`);
    for (let k = 0; k < n; k++) out.push(status);
  });
  return out;
}

export interface Selector {
  metric: string;
  host: string;
  /** Labels besides host. */
  labels: Labels;
}

const METRIC = /^[A-Za-z_][A-Za-z0-9_.:-]*/;
const LABEL = /^[A-Za-z_][A-Za-z0-9_.-]*/;

/** `metric{host="web-1",k="v"}`: the host label is required (it is the sample's host), values double-quoted. */
export function parseSelector(text: string): Selector {
  const s = text.trim();
  const m = METRIC.exec(s);
  if (!m) throw new Error(`expected a metric name first, like system.cpu.utilization{host="web-1"}, got ${JSON.stringify(text)}`);
  const labels: Labels = {};
  let rest = s.slice(m[0].length).trim();
  if (rest !== "") {
    if (!rest.startsWith("{") || !rest.endsWith("}")) throw new Error(`expected {label="value", ...} after the metric name, got ${JSON.stringify(rest)}`);
    rest = rest.slice(1, -1).trim();
    while (rest !== "") {
      const name = LABEL.exec(rest);
      if (!name) throw new Error(`expected a label name at ${JSON.stringify(rest)}`);
      rest = rest.slice(name[0].length).trimStart();
      const value = /^=\s*"((?:[^"\\]|\\.)*)"/.exec(rest);
      if (!value) throw new Error(`label ${name[0]}: expected ="value" (double quotes)`);
      if (name[0] in labels) throw new Error(`label ${name[0]}: given twice`);
      labels[name[0]] = value[1]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
      rest = rest.slice(value[0].length).trimStart();
      if (rest.startsWith(",")) rest = rest.slice(1).trimStart();
      else if (rest !== "") throw new Error(`expected "," or "}" after label ${name[0]}, got ${JSON.stringify(rest)}`);
    }
  }
  const host = labels.host;
  if (host === undefined || host === "") throw new Error(`needs a host label, like ${m[0]}{host="web-1"}`);
  delete labels.host;
  return { metric: m[0], host, labels };
}
