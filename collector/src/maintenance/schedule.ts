// Runs storage maintenance (partitions ahead, compaction, rollups, retention) every interval, one run at a time, and
// keeps what /metrics and the logs say about it; after each run, whatever should follow it (the storage figures).
import type { Clock, Logger } from "@vigil/shared";
import type { MaintenanceReport, MaintenanceStore } from "./ports.js";

export interface MaintenanceStats {
  runs: number;
  failures: number;
  skipped: number;
  lastRunMs: number;
  lastDurationMs: number;
  lastSuccessMs: number;
  compactedSamples: number;
  compactedWindows: number;
  bytesSaved: number;
  droppedPartitions: number;
  deletedBlocks: number;
  corruptBlocks: number;
  lagMs: number;
}

export class MaintenanceSchedule {
  readonly stats: MaintenanceStats = { runs: 0, failures: 0, skipped: 0, lastRunMs: 0, lastDurationMs: 0, lastSuccessMs: 0, compactedSamples: 0, compactedWindows: 0, bytesSaved: 0, droppedPartitions: 0, deletedBlocks: 0, corruptBlocks: 0, lagMs: 0 };
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<MaintenanceReport | null> | null = null;

  constructor(
    private readonly store: MaintenanceStore,
    private readonly opts: { intervalMs: number; clock: Clock; log: Logger; afterRun?: () => Promise<void> },
  ) {}

  /** First run soon after start (a collector that was down has a backlog), then every interval. */
  start(firstDelayMs = 5000): void {
    const tick = (delay: number) => {
      this.timer = setTimeout(() => {
        void this.runNow().finally(() => {
          if (this.timer) tick(this.opts.intervalMs);
        });
      }, delay);
      this.timer.unref();
    };
    tick(firstDelayMs);
  }

  /** One run now (or the one under way), then `afterRun`; null when the run failed (logged). */
  runNow(): Promise<MaintenanceReport | null> {
    this.running ??= this.once()
      .then(async (r) => {
        await this.opts.afterRun?.();
        return r;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private async once(): Promise<MaintenanceReport | null> {
    const { clock, log } = this.opts;
    const t0 = clock.now();
    const s = this.stats;
    s.runs++;
    s.lastRunMs = t0;
    try {
      const r = await this.store.run(t0);
      s.lastDurationMs = clock.now() - t0;
      if (r.skipped) {
        s.skipped++;
        log.debug({ reason: r.skipped }, "storage maintenance skipped");
        return r;
      }
      s.lastSuccessMs = clock.now();
      s.compactedSamples += r.compactedSamples;
      s.compactedWindows += r.compactedWindows;
      s.bytesSaved += r.bytesSaved;
      s.droppedPartitions += r.droppedPartitions.length;
      s.deletedBlocks += r.deletedBlocks;
      s.corruptBlocks += r.corruptBlocks;
      s.lagMs = r.lagMs;
      const did = r.compactedSamples > 0 || r.droppedPartitions.length > 0 || r.deletedBlocks > 0 || r.corruptBlocks > 0;
      (did ? log.info.bind(log) : log.debug.bind(log))(
        { durationMs: s.lastDurationMs, compactedSamples: r.compactedSamples, series: r.compactedWindows, blocks: r.blocksWritten, bytesSaved: r.bytesSaved, dropped: r.droppedPartitions, deletedBlocks: r.deletedBlocks, corruptBlocks: r.corruptBlocks, lagSeconds: Math.round(r.lagMs / 1000) },
        "storage maintenance done",
      );
      return r;
    } catch (err) {
      s.failures++;
      s.lastDurationMs = clock.now() - t0;
      log.error({ err: (err as Error).message }, "storage maintenance failed; will try again next interval");
      return null;
    }
  }
}
