// The HTTP API's audit log: one row per mutating call and per refused key. Rows older than the retention are deleted
// by the writes themselves, at most once an hour: the table stays bounded without a job of its own.
import type { Kysely } from "kysely";
import type { Clock } from "@vigil/shared";
import type { Role } from "../api/access.js";
import type { AuditEntry, AuditLog, AuditOutcome, AuditQuery, AuditView } from "../api/ports.js";
import type { Database } from "./schema.js";

const PRUNE_EVERY_MS = 3_600_000;

export class AuditStore implements AuditLog {
  private lastPruneMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly retentionMs: number,
  ) {}

  async record(e: AuditEntry): Promise<void> {
    await this.db
      .insertInto("audit_log")
      .values({
        time: new Date(e.timeMs),
        actor: e.actor,
        role: e.role,
        key_id: e.keyId,
        action: e.action,
        target: e.target,
        address: e.address,
        outcome: e.outcome,
        status: e.status,
        detail: e.detail,
      })
      .execute();
    const now = this.clock.now();
    if (now - this.lastPruneMs >= PRUNE_EVERY_MS) {
      this.lastPruneMs = now;
      await this.db.deleteFrom("audit_log").where("time", "<", new Date(now - this.retentionMs)).execute();
    }
  }

  async list(q: AuditQuery): Promise<{ entries: AuditView[]; next: string | null }> {
    let query = this.db.selectFrom("audit_log").selectAll().orderBy("id", "desc").limit(q.limit + 1);
    if (q.before !== undefined) query = query.where("id", "<", Number(q.before));
    if (q.sinceMs !== undefined) query = query.where("time", ">=", new Date(q.sinceMs));
    if (q.actor !== undefined) query = query.where("actor", "=", q.actor);
    if (q.outcome !== undefined) query = query.where("outcome", "=", q.outcome);
    const rows = await query.execute();
    const page = rows.slice(0, q.limit);
    return {
      entries: page.map((r) => ({
        id: String(r.id),
        time: r.time.toISOString(),
        actor: r.actor,
        role: r.role as Role | null,
        keyId: r.key_id,
        action: r.action,
        target: r.target,
        address: r.address,
        outcome: r.outcome as AuditOutcome,
        status: r.status,
        detail: r.detail,
      })),
      next: rows.length > q.limit ? String(page.at(-1)!.id) : null,
    };
  }
}
