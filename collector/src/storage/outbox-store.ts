import { sql, type Kysely, type QueryExecutorProvider, type Selectable } from "kysely";
import type { NotificationView } from "../api/ports.js";
import type { Notification, OutboxEntry, OutboxFilter, OutboxItem, OutboxStorage } from "../notify/ports.js";
import type { Database, OutboxTable } from "./schema.js";

const ts = (ms: number) => new Date(ms).toISOString();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Advisory locks on content keys live in their own two-int key space ("outb"), apart from the migrator's bigint lock.
const LOCK_SPACE = 0x6f757462;

function toEntry(r: Selectable<OutboxTable>): OutboxEntry {
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
    const cutoff = new Date(now - this.leaseMs);
    return this.db.transaction().execute(async (tx) => {
      const candidates = await tx
        .selectFrom("outbox")
        .select(["id", "receiver", "group_key", "content_hash"])
        .where((eb) =>
          eb.or([
            eb.and([eb("status", "=", "pending"), eb("next_attempt_at", "<=", new Date(now))]),
            eb.and([eb("status", "=", "sending"), eb("claimed_at", "<=", cutoff)]),
          ]),
        )
        .orderBy("next_attempt_at")
        .orderBy("created_at")
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .execute();
      const chosen = new Map<string, { id: string; hash: string }>();
      for (const c of candidates) if (!chosen.has(contentKey(c))) chosen.set(contentKey(c), { id: c.id, hash: c.content_hash });
      if (chosen.size === 0) return [];
      // Serialise claims of the same content: the lock is held until this transaction commits, and the check below
      // runs after taking it, so it sees a concurrent claim of the same content once that claim is committed.
      const locked = await sql<{ k: string; ok: boolean }>`
        SELECT k, pg_try_advisory_xact_lock(${LOCK_SPACE}, hashtext(k)) AS ok FROM unnest(${[...chosen.keys()]}::text[]) AS k`.execute(tx);
      for (const l of locked.rows) if (!l.ok) chosen.delete(l.k);
      if (chosen.size === 0) return [];
      const ids = () => [...chosen.values()].map((c) => c.id);
      const busy = await tx
        .selectFrom("outbox")
        .select(["receiver", "group_key", "content_hash"])
        .where("status", "=", "sending")
        .where("claimed_at", ">", cutoff)
        .where("content_hash", "in", [...chosen.values()].map((c) => c.hash))
        .where("id", "not in", ids())
        .execute();
      for (const b of busy) chosen.delete(contentKey(b));
      if (chosen.size === 0) return [];
      const claimed = await tx
        .updateTable("outbox")
        .set({
          status: "sending",
          claimed_by: workerId,
          claimed_at: new Date(now),
          // SET reads the row as it was: a row still `sending` was taken over from an expired claim.
          last_error: sql<string | null>`CASE WHEN status = 'sending' THEN 'claim by ' || coalesce(claimed_by, '?') || ' expired' ELSE last_error END`,
        })
        .where("id", "in", ids())
        .returningAll()
        .execute();
      return claimed.map(toEntry).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.createdAt - b.createdAt);
    });
  }

  /** Whether this content already reached this receiver (by any collector, at any time). */
  async alreadyDelivered(groupKey: string, receiver: string, hash: string): Promise<boolean> {
    const r = await this.db
      .selectFrom("notification_log")
      .select("content_hash")
      .where("group_key", "=", groupKey)
      .where("receiver", "=", receiver)
      .where("content_hash", "=", hash)
      .executeTakeFirst();
    return r !== undefined;
  }

  /**
   * Records a delivery: the row is delivered and its content logged, in one transaction. `sent: false` when nothing was
   * sent because the log already had it (the attempt is not counted).
   */
  async markDelivered(id: string, hash: string, now: number, opts: { sent?: boolean } = {}): Promise<void> {
    const add = opts.sent === false ? 0 : 1;
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto("notification_log")
        .columns(["group_key", "receiver", "content_hash", "delivered_at"])
        .expression((eb) =>
          eb
            .selectFrom("outbox")
            .select((o) => ["group_key", "receiver", o.val(hash).as("content_hash"), sql<Date>`${ts(now)}::timestamptz`.as("delivered_at")])
            .where("id", "=", id),
        )
        .onConflict((oc) => oc.doNothing())
        .execute();
      await tx
        .updateTable("outbox")
        .set((eb) => ({ status: "delivered", delivered_at: new Date(now), attempts: eb("attempts", "+", add) }))
        .where("id", "=", id)
        .where("status", "<>", "delivered")
        .execute();
    });
  }

  /** A failed attempt: pending again from `nextAt`. False when the row is no longer being sent (claimed away). */
  async markRetry(id: string, nextAt: number, error: string): Promise<boolean> {
    const r = await this.db
      .updateTable("outbox")
      .set((eb) => ({ status: "pending", attempts: eb("attempts", "+", 1), next_attempt_at: new Date(nextAt), last_error: error, claimed_by: null, claimed_at: null }))
      .where("id", "=", id)
      .where("status", "=", "sending")
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Dead-letters a row; `attempted: false` when it was given up without a send (not counted). */
  async markDead(id: string, error: string, opts: { attempted?: boolean } = {}): Promise<boolean> {
    const add = opts.attempted === false ? 0 : 1;
    const r = await this.db
      .updateTable("outbox")
      .set((eb) => ({ status: "dead", attempts: eb("attempts", "+", add), last_error: error, claimed_by: null, claimed_at: null }))
      .where("id", "=", id)
      .where("status", "=", "sending")
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Gives a claimed row back without counting an attempt (circuit open, worker stopping): pending from `nextAt`. */
  async release(id: string, nextAt: number): Promise<boolean> {
    const r = await this.db
      .updateTable("outbox")
      .set({ status: "pending", next_attempt_at: new Date(nextAt), claimed_by: null, claimed_at: null })
      .where("id", "=", id)
      .where("status", "=", "sending")
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async get(id: string): Promise<OutboxEntry | null> {
    if (!UUID.test(id)) return null;
    const row = await this.db.selectFrom("outbox").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toEntry(row) : null;
  }

  /** Newest first, for the API: status, attempts, last error per notification. */
  async list(f: OutboxFilter): Promise<NotificationView[]> {
    let q = this.db.selectFrom("outbox").selectAll().orderBy("created_at", "desc").orderBy("id").limit(f.limit);
    // The same expression as the GIN index outbox_alerts_idx, so the index serves it.
    if (f.alertId) q = q.where(sql`payload -> 'alerts'`, "@>", sql`${JSON.stringify([{ id: f.alertId }])}::jsonb`);
    if (f.groupKey) q = q.where("group_key", "=", f.groupKey);
    if (f.status) q = q.where("status", "=", f.status);
    return (await q.execute()).map((row) => {
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
