// Alerting as the API sees it: the runtime and its store behind the API's AlertingApi port, with the API's bounds on
// silences, API-managed rules and dry runs.
import type { Clock } from "@vigil/shared";
import type { AlertingApi, RuleView } from "../api/ports.js";
import { CollectorError, CollectorErrors } from "../errors.js";
import type { Alerting } from "./alerting.js";
import { DEFAULT_RULE_NAMES } from "./defaults.js";
import { checkDryRunRange, dryRun, dryRunMetric, validateForDryRun } from "./dry-run.js";
import { validateMatcherSet } from "./matcher-set.js";
import { SILENCES_MAX, type AlertingApiStore } from "./ports.js";
import { validateRule } from "./rule-schema.js";
import { readSilences } from "./stored-rows.js";

/** Dry runs at once: each replays up to 500k samples on the event loop (yielding) and reads them from the database. */
const DRY_RUNS_AT_ONCE = 1;
/** Rules managed over the API: every one is compiled and indexed, and every batch is matched against them. */
const API_RULES_MAX = 1000;

export function alertingApi(opts: { alerting: Alerting; store: AlertingApiStore; clock: Clock }): AlertingApi {
  const { alerting, store, clock } = opts;
  let dryRunsRunning = 0;
  const existing = async (id: string) => {
    const a = await store.getAlert(id);
    if (!a) throw new CollectorError(CollectorErrors.NOT_FOUND, `alert ${id} not found`);
    if (a.state === "resolved") throw new CollectorError(CollectorErrors.CONFLICT, `alert ${id} is resolved already`);
  };
  return {
    listAlerts: (f) => store.listAlerts(f),
    async getAlert(id, page) {
      const a = await store.getAlert(id);
      if (!a) return null;
      const events = await store.alertEvents(id, page);
      return { ...a, events: events.events, eventsBefore: events.next };
    },
    async alertEvents(id, q) {
      return (await store.getAlert(id)) ? store.alertEvents(id, q) : null;
    },
    async acknowledge(id, by, comment) {
      await existing(id);
      await alerting.acknowledge(id, by, comment);
    },
    async unacknowledge(id, by) {
      await existing(id);
      await alerting.unacknowledge(id, by);
    },
    async resolve(id, by) {
      await existing(id);
      await alerting.resolve(id, by);
    },
    async listSilences() {
      const read = readSilences(await store.silences(clock.now()));
      return { silences: read.silences.map(({ test: _test, ...s }) => s), invalid: read.invalid };
    },
    async createSilence(s) {
      const m = validateMatcherSet(s.matchers, "matchers", { empty: false });
      if (!m.ok) throw new CollectorError(CollectorErrors.BAD_PARAM, m.problems.map((p) => `${p.path}: ${p.message}`).join("\n"));
      if ((await store.silences(clock.now())).length >= SILENCES_MAX) {
        throw new CollectorError(CollectorErrors.LIMIT_EXCEEDED, `matchers: at most ${SILENCES_MAX} silences can be active or scheduled at once`);
      }
      const created = await store.createSilence({ ...s, matchers: m.matchers });
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
      if ((await store.apiRuleCount()) >= API_RULES_MAX && !(await store.apiRuleExists(name))) {
        throw new CollectorError(CollectorErrors.LIMIT_EXCEEDED, `name: at most ${API_RULES_MAX} rules can be managed over the API; delete some first`);
      }
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
      checkDryRunRange(startMs, endMs);
      if (dryRunsRunning >= DRY_RUNS_AT_ONCE) throw new CollectorError(CollectorErrors.BUSY, "dry-run: another dry run is running; try again when it finishes");
      dryRunsRunning++;
      try {
        const events = await dryRun(v.rule, store.sampleHistory(dryRunMetric(v.rule)!, startMs, endMs), startMs, endMs);
        return {
          problems: [],
          events: events.map((e) => ({ time: new Date(e.timeMs).toISOString(), kind: e.kind, severity: e.severity, value: e.value, labels: e.labels })),
        };
      } finally {
        dryRunsRunning--;
      }
    },
  };
}
