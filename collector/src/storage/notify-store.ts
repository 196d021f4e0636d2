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
      await tx
        .insertInto("notify_state")
        .values({ id: 1, snapshot: JSON.stringify(snapshot), updated_at: sql<Date>`now()` })
        .onConflict((oc) => oc.column("id").doUpdateSet((eb) => ({ snapshot: eb.ref("excluded.snapshot"), updated_at: sql<Date>`now()` })))
        .execute();
    });
  }

  async loadSnapshot(): Promise<PolicySnapshot | undefined> {
    const r = await this.db.selectFrom("notify_state").select("snapshot").where("id", "=", 1).executeTakeFirst();
    return r?.snapshot;
  }
}
