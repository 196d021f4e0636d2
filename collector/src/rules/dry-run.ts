import { ManualClock } from "@vigil/shared";
import { RuleEngine } from "./engine.js";
import { validateRule } from "./rule-schema.js";
import type { AlertEvent, Rule, SamplePoint } from "./types.js";

export interface DryRunResult {
  problems: string[];
  events: AlertEvent[];
}

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

/**
 * Replays stored samples (sorted by time) through a fresh engine whose clock follows the samples, ticking each
 * `stepMs` in between: when the rule would have fired, changed severity and resolved.
 */
export function dryRun(rule: Rule, samples: readonly SamplePoint[], startMs: number, endMs: number, stepMs = 10_000): AlertEvent[] {
  const clock = new ManualClock(startMs);
  const engine = new RuleEngine({ rules: [rule], clock });
  const events: AlertEvent[] = [];
  let i = 0;
  for (let t = startMs; t <= endMs; t += stepMs) {
    const batch: SamplePoint[] = [];
    while (i < samples.length && samples[i]!.timeMs <= t) batch.push(samples[i++]!);
    if (batch.length > 0) {
      // Feed each sample at its own time so `for` windows measure sample time, not step time.
      for (const p of batch) {
        clock.set(Math.max(clock.now(), p.timeMs));
        events.push(...engine.ingestSamples([p]));
      }
    }
    clock.set(t);
    events.push(...engine.tick());
  }
  return events.filter((e) => e.kind === "firing" || e.kind === "resolved" || e.kind === "severity_changed");
}
