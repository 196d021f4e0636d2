import { SharedErrors, VigilError } from "./errors.js";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/y;

/** Parses Prometheus-style durations ("1m30s", "500ms", "2h", "2y" of 365 days); `what` names the setting in the error. */
export function parseDuration(text: string, what = "duration"): number {
  const s = text.trim();
  if (s === "") throw new VigilError(SharedErrors.BAD_DURATION, `${what}: expected a duration like "10s" or "1m30s", got ""`);
  if (s === "0") return 0;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const at = PART.lastIndex;
    const m = PART.exec(s);
    if (!m) {
      throw new VigilError(SharedErrors.BAD_DURATION, `${what}: expected a duration like "10s" or "1m30s", got ${JSON.stringify(text)} (bad at position ${at})`);
    }
    total += Number(m[1]) * UNITS[m[2]!]!;
  }
  return Math.round(total);
}

/** Formats milliseconds as the shortest duration string ("90s" → "1m30s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000], ["ms", 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
