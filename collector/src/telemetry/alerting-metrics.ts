// Alerting's own health on /metrics: stored rows skipped as invalid, evaluations that failed, store failures.
import { Gauge, type Registry } from "prom-client";
import type { AlertingStats } from "../rules/alerting.js";
import { mirroredCounter } from "./mirrored-counter.js";

export function registerAlertingMetrics(registry: Registry, stats: AlertingStats): void {
  new Gauge({
    name: "vigil_alerting_skipped_rows",
    help: "Stored rows skipped as invalid at their last read (logged with their id), by table",
    labelNames: ["table"],
    registers: [registry],
    collect() {
      for (const [table, n] of Object.entries(stats.skippedRows)) this.set({ table }, n);
    },
  });
  mirroredCounter(registry, "vigil_alerting_evaluation_errors_total", "Rule evaluations (a batch, a tick) that failed; logged, evaluation goes on", () => stats.evaluationErrors);
  mirroredCounter(registry, "vigil_alerting_fenced_writes_total", "Alert transitions refused under a stale fence: another collector took the host-down lease, or the host; logged", () => stats.fencedWrites);
  mirroredCounter(registry, "vigil_alerting_store_failures_total", "Alert transitions the database refused (manual ones are answered 503 and undone)", () => stats.storeFailures);
}
