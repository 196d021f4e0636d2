import { labelsKey } from "@vigil/shared";
import { CheckStatus, type Batch } from "@vigil/proto";
import { CollectorError, CollectorErrors } from "../errors.js";
import { FIELD_LIMITS, type IngestLimits } from "./limits.js";
import type { CheckRun } from "./ports.js";
import { IngestRefusal } from "./refusal.js";
import { requireLabels, requireText } from "./text-fields.js";

const STATUS_FROM_PROTO: Partial<Record<CheckStatus, number>> = {
  [CheckStatus.HEALTHY]: 0,
  [CheckStatus.DEGRADED]: 1,
  [CheckStatus.UNHEALTHY]: 2,
};

const CONTROLS = /\p{Cc}/gu;

/**
 * Checks everything in a batch that does not depend on the stream (header, counts, declarations, check results)
 * before anything is stored; each refusal names the batch seq and the field. Returns the check runs to store.
 */
export function validateBatch(b: Batch, limits: Pick<IngestLimits, "maxPastAgeMs" | "maxFutureSkewMs">): CheckRun[] {
  const at = `batch seq ${b.seq}`;
  if (b.seq > BigInt(FIELD_LIMITS.maxSeq)) throw new IngestRefusal("seq", `${at}: seq: must be at most 2^53-1 (${FIELD_LIMITS.maxSeq})`);
  if (b.timeMs <= 0n) throw new IngestRefusal("time", `${at}: time_ms must be positive, got ${b.timeMs}`);
  if (b.refs.length !== b.values.length) throw new CollectorError(CollectorErrors.PROTOCOL, `${at}: ${b.refs.length} refs but ${b.values.length} values`);
  if (b.refs.length > FIELD_LIMITS.pointsPerBatch) throw new IngestRefusal("points", `${at}: refs: ${b.refs.length} points (limit ${FIELD_LIMITS.pointsPerBatch})`);
  validateDeclarations(b, at);
  return checkRuns(b, at, limits);
}

function validateDeclarations(b: Batch, at: string): void {
  if (b.declare.length === 0) return;
  const refs = new Set<number>();
  const keys = new Map<string, number>();
  b.declare.forEach((d, i) => {
    const field = `${at}: declare[${i}]`;
    if (refs.has(d.ref)) throw new IngestRefusal("ref", `${field}.ref: ref ${d.ref} is declared twice in this batch`);
    refs.add(d.ref);
    requireText(`${field}.metric`, d.metric, FIELD_LIMITS.metricBytes, "metric");
    requireLabels(`${field}.labels`, d.labels);
    const key = `${d.metric}\u0002${labelsKey(d.labels)}`;
    const other = keys.get(key);
    if (other !== undefined) throw new IngestRefusal("ref", `${field}: the same series as ref ${other}`);
    keys.set(key, d.ref);
  });
}

function checkRuns(b: Batch, at: string, limits: Pick<IngestLimits, "maxPastAgeMs" | "maxFutureSkewMs">): CheckRun[] {
  if (b.checks.length > FIELD_LIMITS.checksPerBatch) throw new IngestRefusal("check", `${at}: checks: ${b.checks.length} results (limit ${FIELD_LIMITS.checksPerBatch})`);
  const batchMs = Number(b.timeMs);
  return b.checks.map((c, i) => {
    const field = `${at}: checks[${i}]`;
    requireText(`${field}.name`, c.name, FIELD_LIMITS.checkNameBytes, "check");
    requireText(`${field}.kind`, c.kind, FIELD_LIMITS.checkKindBytes, "check", true);
    const status = STATUS_FROM_PROTO[c.status];
    if (status === undefined) throw new IngestRefusal("check", `${field}.status: must be healthy, degraded or unhealthy, got ${c.status}`);
    if (!Number.isFinite(c.durationSeconds) || c.durationSeconds < 0) {
      throw new IngestRefusal("check", `${field}.duration_seconds: must be a finite number ≥ 0, got ${c.durationSeconds}`);
    }
    // Runs travel with the tick after they finish: a run far from its batch's time is a broken clock or forged.
    const t = Number(c.timeMs);
    if (t < batchMs - limits.maxPastAgeMs || t > batchMs + limits.maxFutureSkewMs) {
      throw new IngestRefusal("check", `${field}.time_ms: ${c.timeMs} is not within ingest.max_past_age before or ingest.max_future_skew after the batch's time (${b.timeMs})`);
    }
    const message = c.message.slice(0, FIELD_LIMITS.checkMessageChars).replace(CONTROLS, " ");
    return { name: c.name, kind: c.kind, status, durationSeconds: c.durationSeconds, message, timeMs: t };
  });
}
