import { sql, type Kysely } from "kysely";
import { migrations as all, type Migration } from "./migrations/index.js";
import type { Database } from "./schema.js";

export interface MigrateResult {
  applied: string[];
  timescale: boolean;
}

// One advisory lock key for all of Vigil's migrations, so collectors starting together migrate once.
const LOCK_KEY = 0x76_69_67_69;

export async function timescaleAvailable(db: Kysely<Database>): Promise<boolean> {
  const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_available_extensions WHERE name = 'timescaledb'`.execute(db);
  return (r.rows[0]?.n ?? 0) > 0;
}

/** Applies pending migrations, each in its own transaction, under an advisory lock. */
export async function migrate(db: Kysely<Database>, migrations: readonly Migration[] = all): Promise<MigrateResult> {
  const timescale = await timescaleAvailable(db);
  return db.connection().execute(async (conn) => {
    await sql`SELECT pg_advisory_lock(${LOCK_KEY})`.execute(conn);
    try {
      await sql`CREATE TABLE IF NOT EXISTS vigil_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`.execute(conn);
      const done = new Set((await conn.selectFrom("vigil_migrations").select("id").execute()).map((r) => r.id));
      const applied: string[] = [];
      for (const m of migrations) {
        if (done.has(m.id)) continue;
        await conn.transaction().execute(async (tx) => {
          await m.up(tx, { timescale });
          await tx.insertInto("vigil_migrations").values({ id: m.id }).execute();
        });
        applied.push(m.id);
      }
      return { applied, timescale };
    } finally {
      await sql`SELECT pg_advisory_unlock(${LOCK_KEY})`.execute(conn);
    }
  });
}

/** Ids of registered migrations not yet applied (readiness reports them). */
export async function pendingMigrations(db: Kysely<Database>, migrations: readonly Migration[] = all): Promise<string[]> {
  const exists = await sql<{ t: string | null }>`SELECT to_regclass('vigil_migrations')::text AS t`.execute(db);
  if (!exists.rows[0]?.t) return migrations.map((m) => m.id);
  const done = new Set((await db.selectFrom("vigil_migrations").select("id").execute()).map((r) => r.id));
  return migrations.filter((m) => !done.has(m.id)).map((m) => m.id);
}
