import { sql, type Kysely } from "kysely";
import type { DispatchPersistence } from "../notify/dispatcher.js";
import type { PolicySnapshot } from "../notify/routing/index.js";
import type { Notification } from "../notify/types.js";
import type { OutboxStore } from "./outbox-store.js";
import type { Database } from "./schema.js";

/** Outbox rows and the policy snapshot in one transaction: a crash loses neither a decision nor its timers. */
export class NotifyStore implements DispatchPersistence {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly outbox: OutboxStore,
  ) {}

  async commit(notifications: readonly Notification[], snapshot: PolicySnapshot): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (notifications.length > 0) await this.outbox.enqueue(tx, notifications);
      await sql`INSERT INTO notify_state (id, snapshot, updated_at) VALUES (1, ${JSON.stringify(snapshot)}::jsonb, now())
        ON CONFLICT (id) DO UPDATE SET snapshot = excluded.snapshot, updated_at = now()`.execute(tx);
    });
  }

  async loadSnapshot(): Promise<PolicySnapshot | undefined> {
    const r = await sql<{ snapshot: PolicySnapshot }>`SELECT snapshot FROM notify_state WHERE id = 1`.execute(this.db);
    return r.rows[0]?.snapshot;
  }
}
