// What every `vigil` command shares: the injected I/O, the two error kinds (exit 2 / exit 1) and output formatting.
import { formatDuration } from "@vigil/shared";

export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  env: Record<string, string | undefined>;
  /** Wall clock (ms) for relative times and silence windows; default Date.now. */
  now?: () => number;
}

/** The command line is wrong: exit status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The command could not do its job (server error, unreachable, invalid file): exit status 1. */
export class CliError extends Error {
  override name = "CliError";
}

export type Row = readonly string[];

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(header: Row, rows: readonly Row[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd()).join("\n") + "\n";
}

/** `{k="v", …}` with keys in the given order ("" for none). */
export function formatLabels(labels: Readonly<Record<string, string>>, skip: readonly string[] = []): string {
  const parts = Object.entries(labels)
    .filter(([k]) => !skip.includes(k))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return parts.length === 0 ? "" : `{${parts.join(", ")}}`;
}

/** A number with at most 6 significant digits ("0.912346", "1.2e+9"). */
export function formatValue(v: unknown): string {
  if (typeof v !== "number") return v === null || v === undefined ? "-" : String(v);
  return Number.isInteger(v) && Math.abs(v) < 1e15 ? String(v) : String(Number(v.toPrecision(6)));
}

/** Milliseconds from a time the API may send as epoch ms or an ISO string; null when absent or unreadable. */
export function toMs(v: unknown): number | null {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v !== "") {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

/** A duration cut to its two largest units, whole seconds ("1h5m", "3m20s", "12s", "0s"). */
export function roughDuration(ms: number): string {
  const parts = formatDuration(Math.floor(ms / 1000) * 1000).match(/\d+[dhms]/g) ?? ["0s"];
  return parts.slice(0, 2).join("");
}

/** "5m ago", "in 1h59m", or "-" when the time is absent. */
export function ago(v: unknown, now: number): string {
  const t = toMs(v);
  if (t === null) return "-";
  const d = now - t;
  return d >= 0 ? `${roughDuration(d)} ago` : `in ${roughDuration(-d)}`;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A label map from an API field (non-string values are shown as JSON). */
export function labelsOf(v: unknown): Record<string, string> {
  if (!isRecord(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) out[k] = typeof x === "string" ? x : JSON.stringify(x);
  return out;
}

export const text = (v: unknown, fallback = "-"): string => (typeof v === "string" && v !== "" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : fallback);

export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + "\n");
}
