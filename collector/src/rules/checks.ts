// Check rules: one alert per (rule, host, check), driven by the agents' health-check runs.
import type { Labels } from "@vigil/shared";
import { MET_CRITICAL, MET_WARNING, type CompiledCheck } from "./compile.js";
import { instanceKey, type AlertContext } from "./series.js";
import * as sm from "./state-machine.js";
import type { AlertEvent, CheckRunInput } from "./types.js";

const STATUS_CODE = { healthy: 0, degraded: 1, unhealthy: 2 } as const;

export function evaluateCheckRun(ctx: AlertContext, rules: readonly CompiledCheck[], run: CheckRunInput, now: number, out: AlertEvent[]): void {
  const labels: Labels = { check: run.check, kind: run.kind };
  for (const r of rules) {
    if (!r.matcher(run.host, labels)) continue;
    const sev = run.status === "unhealthy" ? r.severityFor.unhealthy : run.status === "degraded" ? r.severityFor.degraded : "none";
    // Critical also counts as "at least warning", so degraded/unhealthy flapping still completes the warning `for`.
    const mask = sev === "critical" ? MET_CRITICAL | (r.hasWarning ? MET_WARNING : 0) : sev === "warning" ? MET_WARNING : 0;
    const key = instanceKey(r.name, `check{check=${JSON.stringify(run.check)},host=${JSON.stringify(run.host)}}`);
    const extra = { status: run.status, message: run.message };
    const value = STATUS_CODE[run.status];
    const a = ctx.alertsByKey.get(key);
    if (a) {
      a.extra = extra;
      sm.observe(a, mask, value, now, out);
      if (a.data.state === "resolved") ctx.drop(a);
    } else if (mask !== 0) {
      const created = ctx.create(r, key, { ...labels, ...r.labels, host: run.host, check: run.check, alertname: r.name }, "", value, now, null);
      created.extra = extra;
      sm.start(created, mask, value, now, out);
      if (created.data.state !== "resolved") ctx.register(created);
    }
  }
}
