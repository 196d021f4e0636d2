// The value types of settings. File values arrive typed by YAML, environment and flag values as text; each type reads
// both the same way and refuses anything it cannot read exactly, never guessing (a boolean "enabled" is not false,
// a duration "5000" has no unit).
import { z } from "zod";
import { FIELD_LIMITS, HOSTNAME_PATTERN } from "./wire-limits.js";
import { formatDuration, parseDuration } from "./duration.js";

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);
const fail = (ctx: z.RefinementCtx, message: string): typeof z.NEVER => {
  ctx.addIssue({ code: z.ZodIssueCode.custom, message });
  return z.NEVER;
};

const TRUE = new Set(["true", "yes", "on", "1"]);
const FALSE = new Set(["false", "no", "off", "0"]);

/** true/false, yes/no, on/off, 1/0 (any case), as YAML, text or a number; anything else is an error. */
export const zBoolean = z.union([z.boolean(), z.string(), z.number()]).transform((v, ctx) => {
  if (typeof v === "boolean") return v;
  const s = String(v).trim().toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  return fail(ctx, `expected true/false, yes/no, on/off or 1/0, got ${show(v)}`);
});

/** A duration setting ("10s", "1m30s"), bounded. A bare number other than 0 is refused: its unit would be a guess. */
export function zDuration(min: number, max: number) {
  return z.union([z.string(), z.number()]).transform((v, ctx) => {
    const text = String(v).trim();
    if (/^[+-]?\d+(\.\d+)?$/.test(text) && Number(text) !== 0) {
      return fail(ctx, `a duration needs a unit: write e.g. "${text}s" or "${text}ms" (units ms, s, m, h, d, w, y), got ${show(v)}`);
    }
    let ms: number;
    try {
      ms = parseDuration(text);
    } catch {
      return fail(ctx, `expected a duration like "10s" or "1m30s" (units ms, s, m, h, d, w, y), got ${show(v)}`);
    }
    if (!Number.isFinite(ms) || ms < min || ms > max) return fail(ctx, `must be between ${formatDuration(min)} and ${formatDuration(max)}, got ${show(v)}`);
    return ms;
  });
}

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Bytes as the shortest exact binary unit ("256MiB"), for messages. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [["TiB", 1024 ** 4], ["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return `${n}B`;
}

/** A byte size ("256MiB", "1G", "1.5GB", or a whole number of bytes), bounded. */
export function zBytes(min: number, max: number) {
  return z.union([z.string(), z.number()]).transform((v, ctx) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(String(v));
    const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
    if (!m || unit === undefined) return fail(ctx, `expected a size like "256MiB", "1G" or a whole number of bytes, got ${show(v)}`);
    const exact = Number(m[1]) * unit;
    if (!Number.isInteger(exact)) return fail(ctx, `is not a whole number of bytes, got ${show(v)}`);
    if (exact < min || exact > max) {
      const hint = m[2] === "" ? ` (a bare number is bytes: add a unit, e.g. "${m[1]}MiB")` : "";
      return fail(ctx, `must be between ${formatBytes(min)} and ${formatBytes(max)}, got ${show(v)}${hint}`);
    }
    return exact;
  });
}

/** A whole number, bounded; from YAML or as plain digits in text (no exponents, no fractions). */
export function zInteger(min: number, max: number) {
  return z.union([z.string(), z.number()]).transform((v, ctx) => {
    const text = String(v).trim();
    if (!/^-?\d+$/.test(text)) return fail(ctx, `expected a whole number, got ${show(v)}`);
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min || n > max) return fail(ctx, `must be between ${min} and ${max}, got ${show(v)}`);
    return n;
  });
}

/** HOST:PORT, the port at most 65535. */
export const zHostPort = z
  .string()
  .regex(/^(?:\[[^\]]+\]|[^:\s]*):\d{1,5}$/, 'expected HOST:PORT, e.g. "127.0.0.1:4770"')
  .refine((s) => Number(s.slice(s.lastIndexOf(":") + 1)) <= 65535, "the port must be at most 65535");

export const zLogLevel = z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);

// Control characters in a name or label would reach logs, the wire and the database: refused at the edge.
const CONTROL = /[\u0000-\u001f\u007f]/;
const printable = (what: string, max: number) =>
  z
    .string()
    .min(1, `${what} is empty`)
    .max(max, `${what} is longer than ${max} characters`)
    .refine((s) => !CONTROL.test(s), `${what} contains a control character`);

const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8");

/** A host name as the agent reports it: what the collector accepts in Hello. */
export const zHostname = printable("host name", FIELD_LIMITS.hostnameBytes)
  .refine((s) => utf8Bytes(s) <= FIELD_LIMITS.hostnameBytes, `host name is longer than ${FIELD_LIMITS.hostnameBytes} bytes`)
  .refine((s) => HOSTNAME_PATTERN.test(s), "host name may hold only letters, digits, '.', '-' and '_' (and starts with a letter or digit)");

/** `k=v` list (flags, env) or a mapping (file) → labels. */
export const zLabels = z
  .union([z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])), z.array(z.string())])
  .transform((v, ctx) => {
    const out: Record<string, string> = {};
    const entries: [string, string][] = [];
    if (Array.isArray(v)) {
      for (const item of v) {
        const i = item.indexOf("=");
        if (i <= 0) return fail(ctx, `expected k=v, got ${show(item)}`);
        entries.push([item.slice(0, i), item.slice(i + 1)]);
      }
    } else for (const [k, x] of Object.entries(v)) entries.push([k, String(x)]);
    // The collector's bounds on a series' labels (the agent adds a few of its own: leave room for them).
    if (entries.length > FIELD_LIMITS.labelsPerSeries - 8) return fail(ctx, `at most ${FIELD_LIMITS.labelsPerSeries - 8} labels, got ${entries.length}`);
    let bytes = 0;
    for (const [k, x] of entries) {
      const key = printable("label name", FIELD_LIMITS.labelNameBytes).safeParse(k);
      const value = printable("label value", FIELD_LIMITS.labelValueBytes).safeParse(x);
      if (!key.success || utf8Bytes(k) > FIELD_LIMITS.labelNameBytes) return fail(ctx, `${key.success ? `label name is longer than ${FIELD_LIMITS.labelNameBytes} bytes` : key.error.issues[0]!.message}: ${show(k)}`);
      if (!value.success || utf8Bytes(x) > FIELD_LIMITS.labelValueBytes) return fail(ctx, `${show(k)}: ${value.success ? `label value is longer than ${FIELD_LIMITS.labelValueBytes} bytes` : value.error.issues[0]!.message}`);
      bytes += utf8Bytes(k) + utf8Bytes(x);
      out[k] = x;
    }
    if (bytes > FIELD_LIMITS.seriesLabelBytes / 2) return fail(ctx, `labels hold ${bytes} bytes; at most ${FIELD_LIMITS.seriesLabelBytes / 2} (each series adds its own labels to these)`);
    return out;
  });
