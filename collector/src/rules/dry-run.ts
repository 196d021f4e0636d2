import { setImmediate as yieldToLoop } from "node:timers/promises";
import { formatDuration, ManualClock } from "@vigil/shared";
import { CollectorError, CollectorErrors } from "../errors.js";
import { RuleEngine } from "./engine.js";
import { validateRule } from "./rule-schema.js";
import type { AlertEvent, Rule, SamplePoint } from "./types.js";

/**
 * A dry run replays history on the collector's own event loop, so its work is bounded and it yields regularly:
 * ingest and /healthz carry on while it runs. Over a bound it stops with LIMIT_EXCEEDED naming the bound.
 */
export interface DryRunLimits {
  /** Longest range (end − start). */
  maxRangeMs: number;
  /** Most stored samples replayed. */
  maxSamples: number;
  /** Most events (firing, severity_changed, resolved) returned. */
  maxEvents: number;
  /** Evaluation ticks between samples (`for`, keep_firing_for). */
  stepMs: number;
  /** Samples or ticks between yields to the event loop. */
  yieldEvery: number;
}

export const DRY_RUN_LIMITS: DryRunLimits = { maxRangeMs: 7 * 86_400_000, maxSamples: 500_000, maxEvents: 1000, stepMs: 10_000, yieldEvery: 2000 };

/** The metric a rule reads, when a dry run can replay it from stored samples. */
export function dryRunMetric(rule: Rule): string | null {
  return rule.kind === "threshold" || rule.kind === "rate" ? rule.metric : null;
}

export function validateForDryRun(spec: unknown): { rule: Rule } | { problems: string[] } {
  const v = validateRule(spec);
  if (!v.ok) return { problems: v.problems.map((p) => `rule.${p.path || "(rule)"}: ${p.message}`) };
  if (!dryRunMetric(v.rule)) return { problems: [`rule.kind: a dry run replays stored samples, so it supports threshold and rate rules, not ${v.rule.kind}`] };
  return { rule: v.rule };
}

/** Refuses a range longer than the limit, naming `start`. */
export function checkDryRunRange(startMs: number, endMs: number, limits: DryRunLimits = DRY_RUN_LIMITS): void {
  if (endMs - startMs > limits.maxRangeMs) {
    throw new CollectorError(CollectorErrors.LIMIT_EXCEEDED, `start: a dry run covers at most ${formatDuration(limits.maxRangeMs)} (end - start), got ${formatDuration(endMs - startMs)}`);
  }
}

/**
 * Replays stored samples (in time order, in pages) through a fresh engine whose clock follows the samples, ticking
 * each `stepMs` in between: when the rule would have fired, changed severity and resolved.
 */
export async function dryRun(rule: Rule, pages: AsyncIterable<readonly SamplePoint[]>, startMs: number, endMs: number, limits: DryRunLimits = DRY_RUN_LIMITS): Promise<AlertEvent[]> {
  checkDryRunRange(startMs, endMs, limits);
  const clock = new ManualClock(startMs);
  const engine = new RuleEngine({ rules: [rule], clock });
  const events: AlertEvent[] = [];
  const keep = (es: readonly AlertEvent[]) => {
    for (const e of es) if (e.kind === "firing" || e.kind === "resolved" || e.kind === "severity_changed") events.push(e);
    if (events.length > limits.maxEvents) {
      throw new CollectorError(CollectorErrors.LIMIT_EXCEEDED, `rule: the dry run would return more than ${limits.maxEvents} events; narrow the range or the rule's match`);
    }
  };
  let work = 0;
  let samples = 0;
  let t = startMs;
  const tickUntil = async (limit: number) => {
    for (; t < limit && t <= endMs; t += limits.stepMs) {
      clock.set(t);
      keep(engine.tick());
      if (++work % limits.yieldEvery === 0) await yieldToLoop();
    }
  };
  for await (const page of pages) {
    samples += page.length;
    if (samples > limits.maxSamples) {
      throw new CollectorError(CollectorErrors.LIMIT_EXCEEDED, `start: a dry run replays at most ${limits.maxSamples} samples, and this range holds more; narrow it`);
    }
    for (const p of page) {
      // Ticks before the sample, then the sample at its own time, so `for` windows measure sample time.
      await tickUntil(p.timeMs);
      clock.set(Math.max(clock.now(), p.timeMs));
      keep(engine.ingestSamples([p]));
      if (++work % limits.yieldEvery === 0) await yieldToLoop();
    }
  }
  await tickUntil(Number.POSITIVE_INFINITY);
  return events;
}
