// Agent tokens and API keys are stored alike: a public id finds the row, a SHA-256 of the whole secret is kept, and
// revoking stamps the row (kept for the audit trail) and frees its name.
import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export const sha256 = (s: string): Buffer => createHash("sha256").update(s).digest();

/** Revokes the active row of `table` with this name or id; false when there is none. */
export async function revokeByNameOrId(db: Kysely<Database>, table: "agent_tokens" | "api_keys", nameOrId: string): Promise<boolean> {
  const r = await db
    .updateTable(table)
    .set({ revoked_at: new Date() })
    .where((eb) => eb.or([eb("name", "=", nameOrId), eb("id", "=", nameOrId)]))
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
