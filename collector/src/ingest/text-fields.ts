import type { Labels } from "@vigil/shared";
import { FIELD_LIMITS } from "./limits.js";
import { IngestRefusal, type RefusalReason } from "./refusal.js";

// Unicode category Cc: C0 controls (NUL among them, which Postgres text and jsonb refuse), DEL and C1 controls.
const CONTROL = /\p{Cc}/u;

/** A short, printable rendering of untrusted text for an error message. */
export const quote = (s: string): string => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);

/** What is wrong with a text field (empty, too many UTF-8 bytes, a control character), or undefined. */
export function textProblem(s: string, maxBytes: number, allowEmpty = false): string | undefined {
  if (s.length === 0) return allowEmpty ? undefined : "must not be empty";
  // A UTF-16 unit is at most 3 UTF-8 bytes: short strings need no byte count.
  if (s.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(s, "utf8");
    if (bytes > maxBytes) return `is ${bytes} bytes (limit ${maxBytes})`;
  }
  const c = CONTROL.exec(s);
  if (c) return `contains a control character (U+${c[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")})`;
  return undefined;
}

export function requireText(field: string, s: string, maxBytes: number, reason: RefusalReason, allowEmpty = false): void {
  const p = textProblem(s, maxBytes, allowEmpty);
  if (p) throw new IngestRefusal(reason, `${field}: ${p}`);
}

/** Label count, names, values and their total size; `field` names the labels in messages (`declare[3].labels`). */
export function requireLabels(field: string, labels: Labels): void {
  const names = Object.keys(labels);
  if (names.length > FIELD_LIMITS.labelsPerSeries) {
    throw new IngestRefusal("label_count", `${field}: ${names.length} labels (limit ${FIELD_LIMITS.labelsPerSeries})`);
  }
  let total = 0;
  for (const name of names) {
    const np = textProblem(name, FIELD_LIMITS.labelNameBytes);
    if (np) throw new IngestRefusal("label_name", `${field}: label name ${quote(name)} ${np}`);
    const value = labels[name]!;
    const vp = textProblem(value, FIELD_LIMITS.labelValueBytes, true);
    if (vp) throw new IngestRefusal("label_value", `${field}[${quote(name)}]: value ${vp}`);
    total += Buffer.byteLength(name, "utf8") + Buffer.byteLength(value, "utf8");
  }
  if (total > FIELD_LIMITS.seriesLabelBytes) {
    throw new IngestRefusal("series_size", `${field}: label names and values take ${total} bytes (limit ${FIELD_LIMITS.seriesLabelBytes})`);
  }
}
