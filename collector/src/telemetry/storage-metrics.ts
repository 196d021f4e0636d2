// The storage figures on /metrics, as the last maintenance run measured them: a scrape reads memory, never the database.
import { Gauge, type Registry } from "prom-client";
import type { StorageWatchStats } from "../maintenance/storage-watch.js";

export function registerStorageMetrics(registry: Registry, s: StorageWatchStats): void {
  new Gauge({
    name: "vigil_storage_bytes",
    help: "Bytes of each storage tier's partitions (heap, TOAST, indexes), at the last maintenance run",
    labelNames: ["tier"],
    registers: [registry],
    collect() {
      for (const t of s.tiers) this.set({ tier: t.tier }, t.bytes);
    },
  });
  new Gauge({
    name: "vigil_storage_points",
    help: "Points in each storage tier (samples or rollup buckets; narrow past 1,000,000 estimated), at the last maintenance run",
    labelNames: ["tier"],
    registers: [registry],
    collect() {
      for (const t of s.tiers) this.set({ tier: t.tier }, t.points);
    },
  });
  new Gauge({
    name: "vigil_storage_days_until_full",
    help: "Days until the database's volume fills at its growth of the last week (3650: ten years or never; NaN: unknown)",
    registers: [registry],
    collect() {
      this.set(s.daysUntilFull ?? Number.NaN);
    },
  });
}
