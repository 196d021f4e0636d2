import type { Kysely } from "kysely";
import type { Readiness } from "../api/ports.js";
import { pendingMigrations } from "./migrator.js";
import type { Database } from "./schema.js";

export class StorageReadiness implements Readiness {
  constructor(private readonly db: Kysely<Database>) {}

  async notReadyReason(): Promise<string | null> {
    try {
      const pending = await pendingMigrations(this.db);
      return pending.length > 0 ? `migrations not applied: ${pending.join(", ")}` : null;
    } catch (err) {
      return `storage unreachable: ${(err as Error).message}`;
    }
  }
}
