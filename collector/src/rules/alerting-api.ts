// Alerting as the API sees it: the runtime and its store behind the API's AlertingApi port, with the API's bounds on
// silences, API-managed rules and dry runs.
import type { Clock } from "@vigil/shared";
import type { AlertingApi, RuleView } from "../api/ports.js";
import { CollectorError, CollectorErrors, type CollectorErrorCode } from "../errors.js";
import type { Alerting } from "./alerting.js";
import { DEFAULT_RULE_NAMES } from "./defaults.js";
import { checkDryRunRange, dryRun, dryRunMetric, validateForDryRun } from "./dry-run.js";
import { validateMatcherSet } from "./matcher-set.js";
import { SILENCES_MAX, type AlertCommand, type AlertCommandOutcome, type AlertCommandRelay, type AlertingApiStore } from "./ports.js";
import { validateRule } from "./rule-schema.js";
import { readSilences } from "./stored-rows.js";

/** Dry runs at once: each replays up to 500k samples on the event loop (yielding) and reads them from the database. */
const DRY_RUNS_AT_ONCE = 1;
/** Rules managed over the API: every one is compiled and indexed, and every batch is matched against them. */
const API_RULES_MAX = 1000;

function apply(alerting: Alerting, cmd: AlertCommand): Promise<void> {
  switch (cmd.op) {
    case "acknowledge":
      return alerting.acknowledge(cmd.id, cmd.by, cmd.comment);
    case "unacknowledge":
      return alerting.unacknowledge(cmd.id, cmd.by);
    case "resolve":
      return alerting.resolve(cmd.id, cmd.by);
  }
}

const CODES: ReadonlySet<string> = new Set(Object.values(CollectorErrors));

/** Applies a change another collector forwarded, when this collector evaluates the alert; null when it does not. */
export async function serveAlertCommand(alerting: Alerting, cmd: AlertCommand): Promise<AlertCommandOutcome | null> {
  if (!alerting.holds(cmd.id)) return null;
  try {
    await apply(alerting, cmd);
    return { ok: true };
  } catch (err) {
    // Only the catalogue's codes and messages cross: anything else is logged here and reported as internal there.
    if (err instanceof CollectorError) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}

export function alertingApi(opts: { alerting: Alerting; store: AlertingApiStore; clock: Clock; relay?: AlertCommandRelay }): AlertingApi {
  const { alerting, store, clock, relay } = opts;
  let dryRunsRunning = 0;
  const existing = async (id: string) => {
    const a = await store.getAlert(id);
    if (!a) throw new CollectorError(CollectorErrors.NOT_FOUND, `alert ${id} not found`);
    if (a.state === "resolved") throw new CollectorError(CollectorErrors.CONFLICT, `alert ${id} is resolved already`);
  };
  /** Applied here when this collector evaluates the alert, else by the collector of the cluster that does. */
  const change = async (cmd: AlertCommand) => {
    await existing(cmd.id);
    if (!relay || alerting.holds(cmd.id)) return apply(alerting, cmd);
    const outcome = await relay.forward(cmd);
    if (outcome?.ok) return;
    if (outcome) throw new CollectorError(CODES.has(outcome.code) ? (outcome.code as CollectorErrorCode) : CollectorErrors.INTERNAL, outcome.message);
    // Nobody answered: the alert may have moved here meanwhile (its host's stream did).
    if (alerting.holds(cmd.id)) return apply(alerting, cmd);
    throw new CollectorError(CollectorErrors.ALERT_HOLDER_UNAVAILABLE, `alert ${cmd.id}: the collector evaluating it did not answer in time (it may be down, or its host moving to another collector); retry`);
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
    acknowledge: (id, by, comment) => change({ op: "acknowledge", id, by, comment }),
    unacknowledge: (id, by) => change({ op: "unacknowledge", id, by }),
    resolve: (id, by) => change({ op: "resolve", id, by }),
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
