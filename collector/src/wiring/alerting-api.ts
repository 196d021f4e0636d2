// Adapts the alerting runtime and its store to the API's AlertingApi port (composition only, no logic of its own).
import type { Clock } from "@vigil/shared";
import type { AlertingApi, RuleView } from "../api/ports.js";
import { CollectorError, CollectorErrors } from "../errors.js";
import type { Alerting } from "../rules/alerting.js";
import { DEFAULT_RULE_NAMES } from "../rules/defaults.js";
import { dryRun, dryRunMetric, validateForDryRun } from "../rules/dry-run.js";
import { validateRule } from "../rules/rule-schema.js";
import type { AlertStore } from "../storage/alert-store.js";
import type { PostgresMetricsReader } from "../storage/metrics-reader.js";

const DRY_RUN_MAX_SAMPLES = 500_000;

export function alertingApi(opts: { alerting: Alerting; store: AlertStore; reader: PostgresMetricsReader; clock: Clock }): AlertingApi {
  const { alerting, store, reader, clock } = opts;
  const existing = async (id: string) => {
    const a = await store.getAlert(id);
    if (!a) throw new CollectorError(CollectorErrors.NOT_FOUND, `alert ${id} not found`);
    if (a.state === "resolved") throw new CollectorError(CollectorErrors.CONFLICT, `alert ${id} is resolved already`);
  };
  return {
    listAlerts: (f) => store.listAlerts(f),
    getAlert: (id) => store.getAlert(id),
    async acknowledge(id, by, comment) {
      await existing(id);
      alerting.acknowledge(id, by, comment);
      await alerting.flushed();
    },
    async unacknowledge(id, by) {
      await existing(id);
      alerting.unacknowledge(id, by);
      await alerting.flushed();
    },
    async resolve(id, by) {
      await existing(id);
      alerting.resolve(id, by);
      await alerting.flushed();
    },
    async listSilences() {
      return store.silences(clock.now());
    },
    async createSilence(s) {
      const created = await store.createSilence(s);
      await alerting.refreshSilences();
      await alerting.flushed();
      return created;
    },
    async deleteSilence(id) {
      const ok = await store.expireSilence(id, clock.now());
      if (ok) {
        await alerting.refreshSilences();
        await alerting.flushed();
      }
      return ok;
    },
    async listRules() {
      const api = new Set((await store.apiRules()).map((r) => r.name));
      const defaults = new Set<string>(DEFAULT_RULE_NAMES);
      return alerting.rules().map((r): RuleView => ({ name: r.name, kind: r.kind, source: api.has(r.name) ? "api" : defaults.has(r.name) ? "default" : "file" }));
    },
    async putRule(name, spec) {
      const v = validateRule(spec);
      if (!v.ok) return { problems: v.problems.map((p) => `${p.path || "(rule)"}: ${p.message}`) };
      await store.putApiRule(name, spec);
      const report = await alerting.reloadRules();
      return { problems: report.errors.filter((e) => e.includes(JSON.stringify(name))) };
    },
    async deleteRule(name) {
      const ok = await store.deleteApiRule(name);
      if (ok) await alerting.reloadRules();
      return ok;
    },
    async dryRun(spec, startMs, endMs) {
      const v = validateForDryRun(spec);
      if ("problems" in v) return { problems: v.problems, events: [] };
      const samples = await reader.rawSamples(dryRunMetric(v.rule)!, startMs, endMs, DRY_RUN_MAX_SAMPLES);
      const events = dryRun(v.rule, samples, startMs, endMs);
      return {
        problems: [],
        events: events.map((e) => ({ time: new Date(e.timeMs).toISOString(), kind: e.kind, severity: e.severity, value: e.value, labels: e.labels })),
      };
    },
  };
}
