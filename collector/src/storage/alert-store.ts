import { randomUUID } from "node:crypto";
import { sql, type Kysely } from "kysely";
import type { AlertFilter, AlertView, AlertEventView, EventPage, EventsPageQuery, SilenceInput } from "../api/ports.js";
import type { AlertRepository, Silence, StoredSilence } from "../rules/ports.js";
import type { AlertEvent, AlertInstance } from "../rules/types.js";
import type { Database } from "./schema.js";

/** Active silences read at once: every alert is matched against each on every tick, so their number is bounded. */
export const SILENCES_MAX = 10_000;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

interface AlertRow {
  id: string;
  rule_name: string;
  state: string;
  severity: string;
  // jsonb columns: shown as stored when well-formed; a row edited by hand must not break the listing.
  labels: unknown;
  summary: string;
  value: number;
  active_since: Date;
  firing_since: Date | null;
  resolved_at: Date | null;
  acknowledged: unknown;
  silenced_by: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function labelsView(v: unknown): Record<string, string> {
  return isObject(v) ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === "string")) : {};
}

function ackView(v: unknown): AlertView["acknowledged"] {
  if (!isObject(v) || typeof v.by !== "string" || typeof v.at !== "number" || !Number.isFinite(new Date(v.at).getTime())) return null;
  return { by: v.by, at: new Date(v.at).toISOString(), comment: typeof v.comment === "string" ? v.comment : "" };
}

function toView(r: AlertRow): AlertView {
  return {
    id: r.id,
    rule: r.rule_name,
    state: r.state,
    severity: r.severity,
    labels: labelsView(r.labels),
    summary: r.summary,
    value: r.value,
    activeSince: r.active_since.toISOString(),
    firingSince: r.firing_since?.toISOString() ?? null,
    resolvedAt: r.resolved_at?.toISOString() ?? null,
    acknowledged: ackView(r.acknowledged),
    silencedBy: Array.isArray(r.silenced_by) ? r.silenced_by.filter((x): x is string => typeof x === "string") : [],
  };
}

/** Alerts, their history, silences and API-managed rules in Postgres. */
export class AlertStore implements AlertRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async loadOpen(): Promise<{ id: string; instance: unknown }[]> {
    const r = await sql<{ id: string; instance: unknown }>`SELECT id::text, instance FROM alerts WHERE state IN ('pending', 'firing')`.execute(this.db);
    return r.rows;
  }

  async save(events: readonly AlertEvent[]): Promise<void> {
    // The last snapshot of each instance in this group is its state; every event is history.
    const latest = new Map<string, AlertInstance>();
    for (const e of events) latest.set(e.alertId, e.instance);
    await this.db.transaction().execute(async (tx) => {
      for (const i of latest.values()) {
        await sql`
          INSERT INTO alerts (id, rule_name, key, state, severity, labels, summary, value, active_since, firing_since, resolved_at, acknowledged, silenced_by, instance, updated_at)
          VALUES (${i.id}, ${i.ruleName}, ${i.key}, ${i.state}, ${i.severity}, ${JSON.stringify(i.labels)}::jsonb, ${i.summary}, ${i.value},
                  ${iso(i.activeSince)}, ${iso(i.firingSince)}, ${iso(i.resolvedAt)}, ${i.acknowledged ? JSON.stringify(i.acknowledged) : null}::jsonb,
                  ${JSON.stringify(i.silencedBy)}::jsonb, ${JSON.stringify(i)}::jsonb, now())
          ON CONFLICT (id) DO UPDATE SET state = excluded.state, severity = excluded.severity, labels = excluded.labels,
            summary = excluded.summary, value = excluded.value, firing_since = excluded.firing_since, resolved_at = excluded.resolved_at,
            acknowledged = excluded.acknowledged, silenced_by = excluded.silenced_by, instance = excluded.instance, updated_at = now()`.execute(tx);
      }
      await sql`
        INSERT INTO alert_events (alert_id, time, kind, severity, value, message)
        SELECT a::uuid, t::timestamptz, k, s, v, m
        FROM unnest(${events.map((e) => e.alertId)}::text[], ${events.map((e) => iso(e.timeMs))}::text[], ${events.map((e) => e.kind)}::text[],
                    ${events.map((e) => e.severity)}::text[], ${events.map((e) => e.value)}::float8[], ${events.map((e) => e.message)}::text[]) AS u(a, t, k, s, v, m)`.execute(tx);
    });
  }

  /** Silences not ended yet, at most `SILENCES_MAX` (the oldest-starting first). */
  async silences(nowMs: number): Promise<StoredSilence[]> {
    const rows = await sql<{ id: string; matchers: unknown; starts_at: Date; ends_at: Date; comment: string; created_by: string }>`
      SELECT id::text, matchers, starts_at, ends_at, comment, created_by FROM silences WHERE ends_at > ${iso(nowMs)}::timestamptz
      ORDER BY starts_at, id LIMIT ${SILENCES_MAX}`.execute(this.db);
    return rows.rows.map((r) => ({ id: r.id, matchers: r.matchers, startsAt: r.starts_at.getTime(), endsAt: r.ends_at.getTime(), comment: r.comment, createdBy: r.created_by }));
  }

  async createSilence(s: SilenceInput): Promise<Silence> {
    const id = randomUUID();
    await sql`INSERT INTO silences (id, matchers, starts_at, ends_at, comment, created_by)
      VALUES (${id}, ${JSON.stringify(s.matchers)}::jsonb, ${iso(s.startsAt)}, ${iso(s.endsAt)}, ${s.comment}, ${s.createdBy})`.execute(this.db);
    return { id, ...s };
  }

  /** Ends a silence now (kept for the record). */
  async expireSilence(id: string, nowMs: number): Promise<boolean> {
    const r = await sql`UPDATE silences SET ends_at = LEAST(ends_at, ${iso(nowMs)}::timestamptz) WHERE id::text = ${id} AND ends_at > ${iso(nowMs)}::timestamptz`.execute(this.db);
    return Number(r.numAffectedRows ?? 0) > 0;
  }

  async apiRuleCount(): Promise<number> {
    const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM alert_rules`.execute(this.db);
    return r.rows[0]?.n ?? 0;
  }

  async apiRuleExists(name: string): Promise<boolean> {
    const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM alert_rules WHERE name = ${name}`.execute(this.db);
    return (r.rows[0]?.n ?? 0) > 0;
  }

  async apiRules(): Promise<{ name: string; spec: unknown }[]> {
    const r = await sql<{ name: string; spec: unknown }>`SELECT name, spec FROM alert_rules ORDER BY name`.execute(this.db);
    return r.rows;
  }

  async putApiRule(name: string, spec: unknown): Promise<void> {
    await sql`INSERT INTO alert_rules (name, spec) VALUES (${name}, ${JSON.stringify(spec)}::jsonb)
      ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = now()`.execute(this.db);
  }

  async deleteApiRule(name: string): Promise<boolean> {
    const r = await sql`DELETE FROM alert_rules WHERE name = ${name}`.execute(this.db);
    return Number(r.numAffectedRows ?? 0) > 0;
  }

  async listAlerts(f: AlertFilter): Promise<AlertView[]> {
    const where = [sql`true`];
    if (f.state) where.push(sql`state = ${f.state}`);
    if (f.severity) where.push(sql`severity = ${f.severity}`);
    if (f.host) where.push(sql`labels->>'host' = ${f.host}`);
    const r = await sql<AlertRow>`
      SELECT id::text, rule_name, state, severity, labels, summary, value, active_since, firing_since, resolved_at, acknowledged, silenced_by
      FROM alerts WHERE ${sql.join(where, sql` AND `)} ORDER BY active_since DESC LIMIT ${f.limit}`.execute(this.db);
    return r.rows.map(toView);
  }

  async getAlert(id: string): Promise<AlertView | null> {
    if (!UUID.test(id)) return null;
    const r = await sql<AlertRow>`
      SELECT id::text, rule_name, state, severity, labels, summary, value, active_since, firing_since, resolved_at, acknowledged, silenced_by
      FROM alerts WHERE id = ${id}::uuid`.execute(this.db);
    const row = r.rows[0];
    return row ? toView(row) : null;
  }

  /** One page of an alert's events, newest page first, oldest first within the page; `next` reads older ones. */
  async alertEvents(id: string, q: EventsPageQuery): Promise<EventPage> {
    const ev = await sql<{ id: string; time: Date; kind: string; severity: string; value: number; message: string }>`
      SELECT id::text, time, kind, severity, value, message FROM alert_events
      WHERE alert_id = ${id}::uuid ${q.before === undefined ? sql`` : sql`AND alert_events.id < ${q.before}::bigint`}
      ORDER BY alert_events.id DESC LIMIT ${q.limit + 1}`.execute(this.db);
    const rows = ev.rows.slice(0, q.limit).reverse();
    const events: AlertEventView[] = rows.map((e) => ({ id: e.id, time: e.time.toISOString(), kind: e.kind, severity: e.severity, value: e.value, message: e.message }));
    return { events, next: ev.rows.length > q.limit ? rows[0]!.id : null };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
