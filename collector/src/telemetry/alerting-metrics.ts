// Alerting's own health on /metrics: stored rows skipped as invalid, evaluations that failed, store failures.
import { Counter, Gauge, type Registry } from "prom-client";
import type { AlertingStats } from "../rules/alerting.js";

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
  const mirrored = (name: string, help: string, read: () => number) => {
    let seen = 0;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const v = read();
        if (v > seen) this.inc(v - seen);
        seen = v;
      },
    });
  };
  mirrored("vigil_alerting_evaluation_errors_total", "Rule evaluations (a batch, a tick) that failed; logged, evaluation goes on", () => stats.evaluationErrors);
  mirrored("vigil_alerting_store_failures_total", "Alert transitions the database refused (manual ones are answered 503 and undone)", () => stats.storeFailures);
}
