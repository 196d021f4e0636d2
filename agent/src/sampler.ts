import type { Clock, Logger } from "@vigil/shared";
import type { PendingBatch } from "./batch.js";
import { checkSamples } from "./checks/scheduler.js";
import type { CheckResult } from "./checks/types.js";
import type { MetricSource } from "./collectors/types.js";
import { SeriesRefCache, type SeriesTable } from "./series-table.js";

export interface SamplerOptions {
  sources: MetricSource[];
  series: SeriesTable;
  intervalMs: number;
  clock: Clock;
  log: Logger;
  /** First seq to use; see agent.ts for why it is time-based. */
  firstSeq: number;
  /** Health-check results finished since the last tick; they travel in this tick's batch. */
  takeCheckResults?: () => CheckResult[];
  onBatch(b: PendingBatch): void;
}

/**
 * Samples every source once per interval, on ticks aligned to the wall clock (so every host's points share
 * timestamps), and hands each tick over as one batch. A failing source is logged and skipped, never fatal.
 */
export class Sampler {
  private seq: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly failing = new Set<string>();
  /** Per source: most ticks repeat last tick's series, so their refs are found without building keys. */
  private readonly refCaches = new Map<MetricSource, SeriesRefCache>();

  constructor(private readonly opts: SamplerOptions) {
    this.seq = opts.firstSeq;
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** One tick: exposed for tests and the benchmark. */
  tick(timeMs: number): PendingBatch {
    const refs: number[] = [];
    const values: number[] = [];
    for (const source of this.opts.sources) {
      try {
        const samples = source.collect(timeMs);
        let cache = this.refCaches.get(source);
        if (cache === undefined) this.refCaches.set(source, (cache = new SeriesRefCache(this.opts.series)));
        cache.resolve(samples, refs);
        for (const s of samples) values.push(s.value);
        if (this.failing.delete(source.name)) this.opts.log.info({ source: source.name }, "metric source recovered");
      } catch (err) {
        if (!this.failing.has(source.name)) this.opts.log.warn({ source: source.name, err: (err as Error).message }, "metric source failed");
        this.failing.add(source.name);
      }
    }
    const checks = this.opts.takeCheckResults?.() ?? [];
    for (const r of checks) {
      for (const s of checkSamples(r)) {
        refs.push(this.opts.series.ref(s.metric, s.labels));
        values.push(s.value);
      }
    }
    return { seq: this.seq++, timeMs, refs, values, ...(checks.length > 0 ? { checks } : {}) };
  }

  private schedule(): void {
    const now = this.opts.clock.now();
    const next = Math.floor(now / this.opts.intervalMs) * this.opts.intervalMs + this.opts.intervalMs;
    this.timer = setTimeout(() => {
      this.opts.onBatch(this.tick(next));
      this.schedule();
    }, next - now);
  }
}
