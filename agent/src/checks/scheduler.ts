import type { Clock, Logger } from "@vigil/shared";
import { STATUS_CODE, type Check, type CheckResult } from "./types.js";

export interface CheckSchedulerOptions {
  checks: Check[];
  clock: Clock;
  log: Logger;
  onResult(r: CheckResult): void;
}

/**
 * Runs each check on its own timer with a hard timeout. A check that hangs is aborted and reported unhealthy at
 * its timeout; it can delay neither sampling nor any other check (node_exporter's systemd collector hanging on
 * D-Bus and freezing the whole scrape is the failure this avoids). Runs of one check never overlap.
 */
export class CheckScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly aborts = new Set<AbortController>();
  private stopped = false;

  constructor(private readonly opts: CheckSchedulerOptions) {}

  start(): void {
    for (const check of this.opts.checks) {
      // Spread first runs over the first interval so checks configured together do not fire together forever.
      const first = Math.floor(Math.random() * Math.min(check.common.intervalMs, 2000));
      this.timers.set(check.common.name, setTimeout(() => void this.loop(check), first));
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    for (const a of this.aborts) a.abort();
  }

  /** One run with the timeout applied; exposed for tests. */
  async runOnce(check: Check): Promise<CheckResult> {
    const { name, kind, timeoutMs, degradedAfterMs } = check.common;
    const started = this.opts.clock.now();
    const abort = new AbortController();
    this.aborts.add(abort);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => {
        abort.abort(new Error(`timed out after ${timeoutMs} ms`));
        resolve("timeout");
      }, timeoutMs);
    });
    let result: Omit<CheckResult, "name" | "kind" | "durationMs" | "timeMs">;
    try {
      const outcome = await Promise.race([check.run(abort.signal), timedOut]);
      if (outcome === "timeout") result = { status: "unhealthy", message: `timed out after ${timeoutMs} ms`, metrics: [] };
      else result = { status: outcome.status, message: outcome.message, metrics: outcome.metrics ?? [] };
    } catch (err) {
      result = { status: "unhealthy", message: abort.signal.aborted ? `timed out after ${timeoutMs} ms` : (err as Error).message, metrics: [] };
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
    }
    const durationMs = this.opts.clock.now() - started;
    if (result.status === "healthy" && degradedAfterMs !== undefined && durationMs >= degradedAfterMs) {
      result = { ...result, status: "degraded", message: `${result.message} (slow: ${durationMs} ms ≥ ${degradedAfterMs} ms)` };
    }
    return { name, kind, durationMs, timeMs: this.opts.clock.now(), ...result };
  }

  private async loop(check: Check): Promise<void> {
    if (this.stopped) return;
    const started = this.opts.clock.now();
    const r = await this.runOnce(check);
    if (this.stopped) return;
    this.opts.onResult(r);
    const next = Math.max(0, check.common.intervalMs - (this.opts.clock.now() - started));
    this.timers.set(check.common.name, setTimeout(() => void this.loop(check), next));
  }
}

/** The series every check run yields: generic status and duration, plus its kind's own metrics. */
export function checkSamples(r: CheckResult): { metric: string; labels: Record<string, string>; value: number }[] {
  const base = { check: r.name, kind: r.kind };
  return [
    { metric: "vigil.check.status", labels: base, value: STATUS_CODE[r.status] },
    { metric: "vigil.check.duration", labels: base, value: r.durationMs / 1000 },
    ...r.metrics.map((m) => ({ metric: m.metric, labels: { ...m.labels, ...base }, value: m.value })),
  ];
}
