// Leases on /metrics, per lease name: whether this collector holds it, and how often it was acquired, lost and not
// renewed (losses and renew failures climbing on one collector point at its link to the lease store).
import { Gauge, type Registry } from "prom-client";
import type { LeaseCounts, LeaseStats } from "../cluster/lease-keeper.js";
import { mirroredCounterByLabel } from "./mirrored-counter.js";

export function registerLeaseMetrics(registry: Registry, stats: LeaseStats): void {
  new Gauge({
    name: "vigil_collector_lease_held",
    help: "1 while this collector holds the lease, else 0",
    labelNames: ["lease"],
    registers: [registry],
    collect() {
      for (const [lease, c] of stats.leases) this.set({ lease }, c.held);
    },
  });
  const perLease = (read: (c: LeaseCounts) => number) => () => new Map([...stats.leases].map(([lease, c]) => [lease, read(c)]));
  mirroredCounterByLabel(registry, "vigil_collector_lease_acquired_total", "Times this collector acquired the lease", perLease((c) => c.acquired), "lease");
  mirroredCounterByLabel(registry, "vigil_collector_lease_lost_total", "Times this collector lost the lease while running: renew refused, or not renewed in time (store unreachable); logged", perLease((c) => c.lost), "lease");
  mirroredCounterByLabel(registry, "vigil_collector_lease_renew_failures_total", "Renews of the lease that failed: refused, or the store did not answer", perLease((c) => c.renewFailures), "lease");
}
