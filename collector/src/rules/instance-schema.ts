// Alert instances read back from storage at start: checked field by field, so a row written by another version or
// edited by hand is skipped and reported instead of breaking the engine.
import { z } from "zod";
import type { AlertInstance } from "./types.js";

const time = z.number().finite();
const nullableTime = time.nullable();

const zInstance = z.object({
  id: z.string().min(1).max(64),
  ruleName: z.string().min(1).max(256),
  ruleKind: z.enum(["threshold", "rate", "absent", "check"]),
  labels: z.record(z.string(), z.string()),
  key: z.string().min(1),
  state: z.enum(["pending", "firing", "resolved"]),
  severity: z.enum(["warning", "critical"]),
  // JSON has no NaN or Infinity: they are stored as null.
  value: z.number().nullable().transform((v) => v ?? Number.NaN),
  summary: z.string(),
  activeSince: time,
  firingSince: nullableTime,
  resolvedAt: nullableTime,
  lastEvalAt: time,
  heldSince: z.object({ warning: nullableTime, critical: nullableTime }),
  clearSince: nullableTime,
  keepFiringUntil: nullableTime,
  acknowledged: z.object({ by: z.string(), at: time, comment: z.string() }).nullable(),
  silencedBy: z.array(z.string()),
});

/** The instance, or the first problem with it (field path and message). */
export function parseStoredInstance(raw: unknown): { ok: true; instance: AlertInstance } | { ok: false; problem: string } {
  const r = zInstance.safeParse(raw);
  if (r.success) return { ok: true, instance: r.data };
  const i = r.error.issues[0]!;
  return { ok: false, problem: `${i.path.join(".") || "(instance)"}: ${i.message}` };
}
