// Gives back the disk of narrow rows once compaction has emptied a closed day. Deleted rows leave the day's samples
// partition at full size: (auto)vacuum frees the heap, but its primary-key index keeps every page until retention
// drops the partition 15 days later, about 47 B a compacted sample (bench:storage), 25 times what its block takes.
import { sql, type Kysely } from "kysely";
import type { Database } from "../schema.js";
import { DAY } from "./tier-spec.js";

/** Postgres' SQLSTATE for a lock not granted within lock_timeout. */
const LOCK_NOT_AVAILABLE = "55P03";
/** An emptied partition's index is this small (its metapage) once truncated: nothing left to give back. */
const EMPTY_INDEX_BYTES = 16_384;

/**
 * Truncates the samples partitions of the days that ended at or before `horizonMs` and hold no row any more: those
 * whose heap vacuum has emptied (so the check under the lock reads nothing and blocks readers for no time), whose
 * index still takes space. The check is made under the partition's exclusive lock, so a late row written meanwhile is
 * never lost: it keeps the partition for the next run. A partition busy with writes is skipped rather than waited
 * for. Returns their names.
 */
export async function truncateEmptiedSamples(db: Kysely<Database>, horizonMs: number): Promise<string[]> {
  const parts = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'samples'::regclass AND c.relname ~ '^samples_[0-9]{8}$' AND pg_relation_size(c.oid) = 0 AND pg_indexes_size(c.oid) > ${EMPTY_INDEX_BYTES}
    ORDER BY c.relname`.execute(db);
  const done: string[] = [];
  for (const { name } of parts.rows) {
    const m = /^samples_(\d{4})(\d{2})(\d{2})$/.exec(name)!;
    if (Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + DAY > horizonMs) continue;
    try {
      const truncated = await db.transaction().execute(async (tx) => {
        await sql`SET LOCAL lock_timeout = '2s'`.execute(tx);
        await sql`LOCK TABLE ${sql.table(name)} IN ACCESS EXCLUSIVE MODE`.execute(tx);
        const left = await sql`SELECT 1 FROM ${sql.table(name)} LIMIT 1`.execute(tx);
        if (left.rows.length > 0) return false;
        await sql`TRUNCATE ${sql.table(name)}`.execute(tx);
        return true;
      });
      if (truncated) done.push(name);
    } catch (err) {
      if ((err as { code?: unknown }).code !== LOCK_NOT_AVAILABLE) throw err;
    }
  }
  return done;
}
