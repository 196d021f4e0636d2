import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.js";

const DAY = 86_400_000;

function partitionName(dayStart: number): string {
  return `samples_${new Date(dayStart).toISOString().slice(0, 10).replaceAll("-", "")}`;
}

/**
 * Keeps a daily partition of `samples` for every day that data arrives for (plain Postgres and PGlite).
 * Under TimescaleDB the hypertable makes its own chunks and this does nothing.
 */
export class PartitionManager {
  private readonly known = new Set<number>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly timescale: boolean,
  ) {}

  /** Makes sure partitions exist for the days containing these times (ms). */
  async ensureFor(times: Iterable<number>): Promise<void> {
    if (this.timescale) return;
    const missing = new Set<number>();
    for (const t of times) {
      const day = Math.floor(t / DAY) * DAY;
      if (!this.known.has(day)) missing.add(day);
    }
    for (const day of missing) await this.create(day);
  }

  /** Creates yesterday's to the day after tomorrow's partitions, so the hot path rarely does DDL. */
  async ensureAround(now: number): Promise<void> {
    await this.ensureFor([now - DAY, now, now + DAY, now + 2 * DAY]);
  }

  private async create(day: number): Promise<void> {
    const name = partitionName(day);
    const from = new Date(day).toISOString();
    const to = new Date(day + DAY).toISOString();
    try {
      await sql`CREATE TABLE IF NOT EXISTS ${sql.table(name)} PARTITION OF samples FOR VALUES FROM (${sql.lit(from)}) TO (${sql.lit(to)})`.execute(this.db);
    } catch (err) {
      // Another collector created it between our check and our CREATE: that is success.
      const exists = await sql<{ t: string | null }>`SELECT to_regclass(${name})::text AS t`.execute(this.db);
      if (!exists.rows[0]?.t) throw err;
    }
    this.known.add(day);
  }
}
