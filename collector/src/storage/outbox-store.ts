import { sql, type Kysely, type QueryExecutorProvider } from "kysely";
import type { NotificationView } from "../api/ports.js";
import type { Notification, OutboxEntry, OutboxFilter, OutboxItem, OutboxStatus, OutboxStorage } from "../notify/ports.js";
import type { Database } from "./schema.js";

interface Row {
  id: string;
  receiver: string;
  group_key: string;
  kind: string;
  payload: Notification;
  content_hash: string;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: Date;
  claimed_by: string | null;
  claimed_at: Date | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

const COLUMNS = sql`id::text, receiver, group_key, kind, payload, content_hash, status, attempts, next_attempt_at,
  claimed_by, claimed_at, last_error, created_at, delivered_at`;
const ts = (ms: number) => new Date(ms).toISOString();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Advisory locks on content keys live in their own two-int key space ("outb"), apart from the migrator's bigint lock.
const LOCK_SPACE = 0x6f757462;

function toEntry(r: Row): OutboxEntry {
  return {
    id: r.id,
    receiver: r.receiver,
    groupKey: r.group_key,
    kind: r.kind,
    notification: r.payload,
    contentHash: r.content_hash,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at.getTime(),
    claimedBy: r.claimed_by,
    claimedAt: r.claimed_at?.getTime() ?? null,
    lastError: r.last_error,
    createdAt: r.created_at.getTime(),
    deliveredAt: r.delivered_at?.getTime() ?? null,
  };
}

const contentKey = (r: { receiver: string; group_key: string; content_hash: string }) => JSON.stringify([r.receiver, r.group_key, r.content_hash]);

export interface OutboxStoreOptions {
  /** A row in `sending` for longer than this is claimable again (its collector died between claim and result). */
  leaseMs?: number;
}

/** The notification outbox and delivery log in Postgres. */
export class OutboxStore implements OutboxStorage {
  readonly leaseMs: number;

  constructor(
    private readonly db: Kysely<Database>,
    opts: OutboxStoreOptions = {},
  ) {
    this.leaseMs = opts.leaseMs ?? 60_000;
  }

  /**
   * Adds notifications (ids must be uuids; an id already present is ignored). Pass the transaction that changes the
   * alert state, so the notification exists exactly when the change does. Returns how many rows were added.
   */
  async enqueue(executor: QueryExecutorProvider, items: readonly OutboxItem[]): Promise<number> {
    if (items.length === 0) return 0;
    for (const { notification: n } of items) if (!UUID.test(n.id)) throw new Error(`notification id must be a uuid, got ${JSON.stringify(n.id)}`);
    const col = <T>(f: (n: Notification) => T) => items.map((i) => f(i.notification));
    const r = await sql`
      INSERT INTO outbox (id, receiver, group_key, kind, payload, content_hash, status, attempts, next_attempt_at, created_at)
      SELECT i::uuid, r, g, k, p::jsonb, h, 'pending', 0, c::timestamptz, c::timestamptz
      FROM unnest(${col((n) => n.id)}::text[], ${col((n) => n.receiver)}::text[], ${col((n) => n.groupKey)}::text[],
                  ${col((n) => n.kind)}::text[], ${col((n) => JSON.stringify(n))}::text[], ${items.map((i) => i.contentHash)}::text[],
                  ${col((n) => ts(n.createdAt))}::text[]) AS u(i, r, g, k, p, h, c)
      ON CONFLICT (id) DO NOTHING`.execute(executor);
    return Number(r.numAffectedRows ?? 0);
  }

  /**
   * Claims up to `limit` rows due at `now` (pending, or sending past the lease) for `workerId`, marking them sending.
   * Rows locked by another claim are skipped (FOR UPDATE SKIP LOCKED). At most one row per content (receiver, group,
   * hash) is in flight: a duplicate of content being sent elsewhere stays pending, and once that delivery is logged
   * the duplicate is recognised by `alreadyDelivered`.
   */
  async claim(workerId: string, limit: number, now: number): Promise<OutboxEntry[]> {
    const cutoff = ts(now - this.leaseMs);
    return this.db.transaction().execute(async (tx) => {
      const candidates = await sql<{ id: string; receiver: string; group_key: string; content_hash: string }>`
        SELECT id::text, receiver, group_key, content_hash FROM outbox
        WHERE (status = 'pending' AND next_attempt_at <= ${ts(now)}::timestamptz)
           OR (status = 'sending' AND claimed_at <= ${cutoff}::timestamptz)
        ORDER BY next_attempt_at, created_at
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED`.execute(tx);
      const chosen = new Map<string, { id: string; hash: string }>();
      for (const c of candidates.rows) if (!chosen.has(contentKey(c))) chosen.set(contentKey(c), { id: c.id, hash: c.content_hash });
      if (chosen.size === 0) return [];
      // Serialise claims of the same content: the lock is held until this transaction commits, and the check below
      // runs after taking it, so it sees a concurrent claim of the same content once that claim is committed.
      const locked = await sql<{ k: string; ok: boolean }>`
        SELECT k, pg_try_advisory_xact_lock(${LOCK_SPACE}, hashtext(k)) AS ok FROM unnest(${[...chosen.keys()]}::text[]) AS k`.execute(tx);
      for (const l of locked.rows) if (!l.ok) chosen.delete(l.k);
      if (chosen.size === 0) return [];
      const ids = () => [...chosen.values()].map((c) => c.id);
      const busy = await sql<{ receiver: string; group_key: string; content_hash: string }>`
        SELECT receiver, group_key, content_hash FROM outbox
        WHERE status = 'sending' AND claimed_at > ${cutoff}::timestamptz
          AND content_hash = ANY(${[...chosen.values()].map((c) => c.hash)}::text[]) AND NOT (id = ANY(${ids()}::uuid[]))`.execute(tx);
      for (const b of busy.rows) chosen.delete(contentKey(b));
      if (chosen.size === 0) return [];
      const claimed = await sql<Row>`
        UPDATE outbox SET status = 'sending', claimed_by = ${workerId}, claimed_at = ${ts(now)}::timestamptz,
          last_error = CASE WHEN status = 'sending' THEN 'claim by ' || coalesce(claimed_by, '?') || ' expired' ELSE last_error END
        WHERE id = ANY(${ids()}::uuid[])
        RETURNING ${COLUMNS}`.execute(tx);
      return claimed.rows.map(toEntry).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.createdAt - b.createdAt);
    });
  }

  /** Whether this content already reached this receiver (by any collector, at any time). */
  async alreadyDelivered(groupKey: string, receiver: string, hash: string): Promise<boolean> {
    const r = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM notification_log WHERE group_key = ${groupKey} AND receiver = ${receiver} AND content_hash = ${hash}`.execute(this.db);
    return (r.rows[0]?.n ?? 0) > 0;
  }

  /**
   * Records a delivery: the row is delivered and its content logged, in one transaction. `sent: false` when nothing was
   * sent because the log already had it (the attempt is not counted).
   */
  async markDelivered(id: string, hash: string, now: number, opts: { sent?: boolean } = {}): Promise<void> {
    const add = opts.sent === false ? 0 : 1;
    await this.db.transaction().execute(async (tx) => {
      await sql`
        INSERT INTO notification_log (group_key, receiver, content_hash, delivered_at)
        SELECT group_key, receiver, ${hash}, ${ts(now)}::timestamptz FROM outbox WHERE id = ${id}::uuid
        ON CONFLICT DO NOTHING`.execute(tx);
      await sql`
        UPDATE outbox SET status = 'delivered', delivered_at = ${ts(now)}::timestamptz, attempts = attempts + ${add}
        WHERE id = ${id}::uuid AND status <> 'delivered'`.execute(tx);
    });
  }

  /** A failed attempt: pending again from `nextAt`. False when the row is no longer being sent (claimed away). */
  async markRetry(id: string, nextAt: number, error: string): Promise<boolean> {
    const r = await sql`
      UPDATE outbox SET status = 'pending', attempts = attempts + 1, next_attempt_at = ${ts(nextAt)}::timestamptz,
        last_error = ${error}, claimed_by = NULL, claimed_at = NULL
      WHERE id = ${id}::uuid AND status = 'sending'`.execute(this.db);
    return Number(r.numAffectedRows ?? 0) > 0;
  }

  /** Dead-letters a row; `attempted: false` when it was given up without a send (not counted). */
  async markDead(id: string, error: string, opts: { attempted?: boolean } = {}): Promise<boolean> {
    const add = opts.attempted === false ? 0 : 1;
    const r = await sql`
      UPDATE outbox SET status = 'dead', attempts = attempts + ${add}, last_error = ${error}, claimed_by = NULL, claimed_at = NULL
      WHERE id = ${id}::uuid AND status = 'sending'`.execute(this.db);
    return Number(r.numAffectedRows ?? 0) > 0;
  }

  /** Gives a claimed row back without counting an attempt (circuit open, worker stopping): pending from `nextAt`. */
  async release(id: string, nextAt: number): Promise<boolean> {
    const r = await sql`
      UPDATE outbox SET status = 'pending', next_attempt_at = ${ts(nextAt)}::timestamptz, claimed_by = NULL, claimed_at = NULL
      WHERE id = ${id}::uuid AND status = 'sending'`.execute(this.db);
    return Number(r.numAffectedRows ?? 0) > 0;
  }

  async get(id: string): Promise<OutboxEntry | null> {
    if (!UUID.test(id)) return null;
    const r = await sql<Row>`SELECT ${COLUMNS} FROM outbox WHERE id = ${id}::uuid`.execute(this.db);
    return r.rows[0] ? toEntry(r.rows[0]) : null;
  }

  /** Newest first, for the API: status, attempts, last error per notification. */
  async list(f: OutboxFilter): Promise<NotificationView[]> {
    const where = [sql`true`];
    if (f.alertId) where.push(sql`payload -> 'alerts' @> ${JSON.stringify([{ id: f.alertId }])}::jsonb`);
    if (f.groupKey) where.push(sql`group_key = ${f.groupKey}`);
    if (f.status) where.push(sql`status = ${f.status}`);
    const r = await sql<Row>`SELECT ${COLUMNS} FROM outbox WHERE ${sql.join(where, sql` AND `)}
      ORDER BY created_at DESC, id LIMIT ${f.limit}`.execute(this.db);
    return r.rows.map((row) => {
      const e = toEntry(row);
      return {
        id: e.id,
        receiver: e.receiver,
        groupKey: e.groupKey,
        kind: e.kind,
        status: e.status,
        attempts: e.attempts,
        nextAttemptAt: ts(e.nextAttemptAt),
        lastError: e.lastError,
        createdAt: ts(e.createdAt),
        deliveredAt: e.deliveredAt === null ? null : ts(e.deliveredAt),
        alertIds: e.notification.alerts.map((a) => a.id),
      };
    });
  }
}
