// After each maintenance run, the storage figures: kept for /metrics (a scrape never queries the database), and the
// days until the volume fills sent to alert rules as the collector's own series (default rule storage-filling).
import type { Clock, Logger } from "@vigil/shared";
import type { OwnPoint, StorageFigures, StorageFiguresStore } from "./ports.js";

export const DAYS_UNTIL_FULL_METRIC = "vigil.storage.days_until_full";
/**
 * What days-until-full reads when the volume would not fill within ten years or the database is not growing: rule
 * levels compare numbers, and "never" must be one that clears them.
 */
export const NEVER_DAYS = 3650;

export interface StorageWatchStats {
  /** Per tier, from the last measure (empty before it). */
  tiers: { tier: string; bytes: number; points: number }[];
  /** Days until the volume fills, at most NEVER_DAYS; null while unknown (no volume or no growth figure). */
  daysUntilFull: number | null;
  /** When the figures were last measured (0: not yet). */
  lastMeasureMs: number;
}

/** The days value of the figures: NEVER_DAYS when volume and growth are known and no day comes. */
export function daysValue(f: StorageFigures): number | null {
  if (f.daysUntilFull !== null) return Math.min(f.daysUntilFull, NEVER_DAYS);
  return f.volume.availableBytes !== null && f.growth.bytesPerDay !== null ? NEVER_DAYS : null;
}

export class StorageWatch {
  readonly stats: StorageWatchStats = { tiers: [], daysUntilFull: null, lastMeasureMs: 0 };

  constructor(
    private readonly store: StorageFiguresStore,
    private readonly opts: { host: string; clock: Clock; log: Logger; observe: (points: OwnPoint[]) => void },
  ) {}

  /** Measures now. Never throws: a failure is logged and the last figures stay. */
  async refresh(): Promise<void> {
    const now = this.opts.clock.now();
    let f: StorageFigures;
    try {
      f = await this.store.read(now);
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, "storage figures could not be measured; /metrics keeps the last ones");
      return;
    }
    const days = daysValue(f);
    this.stats.tiers = f.tiers.map(({ tier, bytes, points }) => ({ tier, bytes, points }));
    this.stats.daysUntilFull = days;
    this.stats.lastMeasureMs = now;
    if (days !== null) this.opts.observe([{ host: this.opts.host, metric: DAYS_UNTIL_FULL_METRIC, labels: {}, timeMs: now, value: days }]);
  }
}
