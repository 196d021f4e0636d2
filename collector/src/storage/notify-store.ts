import { sql, type Kysely } from "kysely";
import type { NotifyStateStore, OutboxItem, PolicySnapshot } from "../notify/ports.js";
import type { OutboxStore } from "./outbox-store.js";
import type { Database } from "./schema.js";

/** Outbox rows and the policy snapshot in one transaction: a crash loses neither a decision nor its timers. */
export class NotifyStore implements NotifyStateStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly outbox: OutboxStore,
  ) {}

  async commit(items: readonly OutboxItem[], snapshot: PolicySnapshot): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (items.length > 0) await this.outbox.enqueue(tx, items);
      await sql`INSERT INTO notify_state (id, snapshot, updated_at) VALUES (1, ${JSON.stringify(snapshot)}::jsonb, now())
        ON CONFLICT (id) DO UPDATE SET snapshot = excluded.snapshot, updated_at = now()`.execute(tx);
    });
  }

  async loadSnapshot(): Promise<PolicySnapshot | undefined> {
    const r = await sql<{ snapshot: PolicySnapshot }>`SELECT snapshot FROM notify_state WHERE id = 1`.execute(this.db);
    return r.rows[0]?.snapshot;
  }
}
