import { randomUUID } from "node:crypto";
import { sql, type Kysely, type Selectable, type Transaction } from "kysely";
import { FencedOut, type Fence } from "../cluster/ports.js";
import type { AlertFilter, AlertView, AlertEventView, EventPage, EventsPageQuery, SilenceInput } from "../api/ports.js";
import { SILENCES_MAX, type AlertStorage, type HostLastSeen, type Silence, type StoredSilence } from "../rules/ports.js";
import type { AlertEvent, AlertInstance, SamplePoint } from "../rules/types.js";
import { sampleHistory } from "./sample-history.js";
import type { AlertsTable, Database } from "./schema.js";

const date = (ms: number | null) => (ms === null ? null : new Date(ms));
const iso = (ms: number) => new Date(ms).toISOString();
const now = () => sql<Date>`now()`;

const VIEW_COLUMNS = ["id", "rule_name", "state", "severity", "labels", "summary", "value", "active_since", "firing_since", "resolved_at", "acknowledged", "silenced_by"] as const;

// jsonb columns are shown as stored when well-formed; a row edited by hand must not break the listing.
type AlertRow = Pick<Selectable<AlertsTable>, (typeof VIEW_COLUMNS)[number]>;

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

/** Alerts, their history, silences and API-managed rules in Postgres, and what alerting reads of hosts and samples. */
export class AlertStore implements AlertStorage {
  constructor(private readonly db: Kysely<Database>) {}

  async loadOpen(host?: string): Promise<{ id: string; instance: unknown }[]> {
    return this.db
      .selectFrom("alerts")
      .select(["id", "instance"])
      .where("state", "in", ["pending", "firing"])
      .$if(host !== undefined, (q) => q.where(sql<string>`labels->>'host'`, "=", host!))
      .execute();
  }

  async claimHost(host: string): Promise<Fence> {
    const lease = `host:${host}`;
    const r = await sql<{ fence: string }>`
      INSERT INTO lease_fences (lease, fence) VALUES (${lease}, 1)
      ON CONFLICT (lease) DO UPDATE SET fence = lease_fences.fence + 1
      RETURNING fence`.execute(this.db);
    return { lease, value: Number(r.rows[0]!.fence) };
  }

  async claimFence(fence: Fence): Promise<void> {
    await this.db.transaction().execute((tx) => checkFence(tx, fence));
  }

  async save(events: readonly AlertEvent[], fence?: Fence): Promise<void> {
    // The last snapshot of each instance in this group is its state; every event is history.
    const latest = new Map<string, AlertInstance>();
    for (const e of events) latest.set(e.alertId, e.instance);
    await this.db.transaction().execute(async (tx) => {
      if (fence) await checkFence(tx, fence);
      for (const i of latest.values()) {
        await tx
          .insertInto("alerts")
          .values({
            id: i.id,
            rule_name: i.ruleName,
            key: i.key,
            state: i.state,
            severity: i.severity,
            labels: JSON.stringify(i.labels),
            summary: i.summary,
            value: i.value,
            active_since: new Date(i.activeSince),
            firing_since: date(i.firingSince),
            resolved_at: date(i.resolvedAt),
            acknowledged: i.acknowledged ? JSON.stringify(i.acknowledged) : null,
            silenced_by: JSON.stringify(i.silencedBy),
            instance: JSON.stringify(i),
            updated_at: now(),
          })
          .onConflict((oc) =>
            oc.column("id").doUpdateSet((eb) => ({
              state: eb.ref("excluded.state"),
              severity: eb.ref("excluded.severity"),
              labels: eb.ref("excluded.labels"),
              summary: eb.ref("excluded.summary"),
              value: eb.ref("excluded.value"),
              firing_since: eb.ref("excluded.firing_since"),
              resolved_at: eb.ref("excluded.resolved_at"),
              acknowledged: eb.ref("excluded.acknowledged"),
              silenced_by: eb.ref("excluded.silenced_by"),
              instance: eb.ref("excluded.instance"),
              updated_at: now(),
            })),
          )
          .execute();
      }
      // One statement for the whole group's history, however many events (unnest of one array per column).
      await sql`
        INSERT INTO alert_events (alert_id, time, kind, severity, value, message)
        SELECT a::uuid, t::timestamptz, k, s, v, m
        FROM unnest(${events.map((e) => e.alertId)}::text[], ${events.map((e) => iso(e.timeMs))}::text[], ${events.map((e) => e.kind)}::text[],
                    ${events.map((e) => e.severity)}::text[], ${events.map((e) => e.value)}::float8[], ${events.map((e) => e.message)}::text[]) AS u(a, t, k, s, v, m)`.execute(tx);
    });
  }

  /** Silences not ended yet, at most `SILENCES_MAX` (the oldest-starting first). */
  async silences(nowMs: number): Promise<StoredSilence[]> {
    const rows = await this.db
      .selectFrom("silences")
      .select(["id", "matchers", "starts_at", "ends_at", "comment", "created_by"])
      .where("ends_at", ">", new Date(nowMs))
      .orderBy("starts_at")
      .orderBy("id")
      .limit(SILENCES_MAX)
      .execute();
    return rows.map((r) => ({ id: r.id, matchers: r.matchers, startsAt: r.starts_at.getTime(), endsAt: r.ends_at.getTime(), comment: r.comment, createdBy: r.created_by }));
  }

  async createSilence(s: SilenceInput): Promise<Silence> {
    const id = randomUUID();
    await this.db
      .insertInto("silences")
      .values({ id, matchers: JSON.stringify(s.matchers), starts_at: new Date(s.startsAt), ends_at: new Date(s.endsAt), comment: s.comment, created_by: s.createdBy })
      .execute();
    return { id, ...s };
  }

  /** Ends a silence now (kept for the record). */
  async expireSilence(id: string, nowMs: number): Promise<boolean> {
    const r = await this.db
      .updateTable("silences")
      .set({ ends_at: sql<Date>`LEAST(ends_at, ${new Date(nowMs)}::timestamptz)` })
      // Compared as text: an id that is no uuid matches nothing instead of failing the cast.
      .where((eb) => eb(eb.cast<string>("id", "text"), "=", id))
      .where("ends_at", ">", new Date(nowMs))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async apiRuleCount(): Promise<number> {
    const r = await this.db.selectFrom("alert_rules").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    return r.n;
  }

  async apiRuleExists(name: string): Promise<boolean> {
    return (await this.db.selectFrom("alert_rules").select("name").where("name", "=", name).executeTakeFirst()) !== undefined;
  }

  async apiRules(): Promise<{ name: string; spec: unknown }[]> {
    return this.db.selectFrom("alert_rules").select(["name", "spec"]).orderBy("name").execute();
  }

  async putApiRule(name: string, spec: unknown): Promise<void> {
    await this.db
      .insertInto("alert_rules")
      .values({ name, spec: JSON.stringify(spec) })
      .onConflict((oc) => oc.column("name").doUpdateSet((eb) => ({ spec: eb.ref("excluded.spec"), updated_at: now() })))
      .execute();
  }

  async deleteApiRule(name: string): Promise<boolean> {
    const r = await this.db.deleteFrom("alert_rules").where("name", "=", name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async listAlerts(f: AlertFilter): Promise<AlertView[]> {
    let q = this.db.selectFrom("alerts").select(VIEW_COLUMNS).orderBy("active_since", "desc").limit(f.limit);
    if (f.state) q = q.where("state", "=", f.state);
    if (f.severity) q = q.where("severity", "=", f.severity);
    if (f.host) q = q.where(sql<string>`labels->>'host'`, "=", f.host);
    return (await q.execute()).map(toView);
  }

  async getAlert(id: string): Promise<AlertView | null> {
    if (!UUID.test(id)) return null;
    const row = await this.db.selectFrom("alerts").select(VIEW_COLUMNS).where("id", "=", id).executeTakeFirst();
    return row ? toView(row) : null;
  }

  /** One page of an alert's events, newest page first, oldest first within the page; `next` reads older ones. */
  async alertEvents(id: string, q: EventsPageQuery): Promise<EventPage> {
    // Ids as text: the API's cursor is a decimal string. The table-qualified id below is the bigint column.
    let query = this.db
      .selectFrom("alert_events")
      .select((eb) => [eb.cast<string>("id", "text").as("id"), "time", "kind", "severity", "value", "message"])
      .where("alert_id", "=", id)
      .orderBy("alert_events.id", "desc")
      .limit(q.limit + 1);
    if (q.before !== undefined) query = query.where("alert_events.id", "<", sql<number>`${q.before}::bigint`);
    const ev = await query.execute();
    const rows = ev.slice(0, q.limit).reverse();
    const events: AlertEventView[] = rows.map((e) => ({ id: e.id, time: e.time.toISOString(), kind: e.kind, severity: e.severity, value: e.value, message: e.message }));
    return { events, next: ev.length > q.limit ? rows[0]!.id : null };
  }

  async hostsLastSeen(): Promise<HostLastSeen[]> {
    const hosts = await this.db.selectFrom("hosts").select(["name", "last_seen", "interval_ms"]).execute();
    return hosts.map((h) => ({ name: h.name, lastSeenMs: h.last_seen.getTime(), intervalMs: h.interval_ms }));
  }

  sampleHistory(metric: string, startMs: number, endMs: number): AsyncIterable<SamplePoint[]> {
    return sampleHistory(this.db, metric, startMs, endMs);
  }
}

/**
 * The fencing check, first in a guarded transaction: records the fence unless a newer one is recorded. The row lock it
 * takes orders this transaction after any other write under the same lease; a stale fence aborts it (FencedOut).
 */
async function checkFence(tx: Transaction<Database>, fence: Fence): Promise<void> {
  const r = await sql<{ fence: string }>`
    INSERT INTO lease_fences (lease, fence) VALUES (${fence.lease}, ${fence.value})
    ON CONFLICT (lease) DO UPDATE SET fence = EXCLUDED.fence WHERE lease_fences.fence <= EXCLUDED.fence
    RETURNING fence`.execute(tx);
  if (r.rows.length > 0) return;
  const recorded = await sql<{ fence: string }>`SELECT fence::text AS fence FROM lease_fences WHERE lease = ${fence.lease}`.execute(tx);
  throw new FencedOut(fence, Number(recorded.rows[0]?.fence ?? fence.value));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
