import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.js";

const DAY = 86_400_000;

/** A range-partitioned table: its partitions are `width` long, aligned to the epoch, named `<table>_<yyyymmdd>`. */
export interface PartitionedTable {
  table: "samples" | "sample_blocks" | "rollup_1m" | "rollup_1h";
  widthMs: number;
  /** Columns stored EXTERNAL (already compressed): set on each partition, as a partition may not inherit it. */
  external?: readonly string[];
}

export const SAMPLES_TABLE: PartitionedTable = { table: "samples", widthMs: DAY };

function partitionName(table: string, start: number): string {
  return `${table}_${new Date(start).toISOString().slice(0, 10).replaceAll("-", "")}`;
}

/** The start (ms) a partition's name encodes, or null for a name this manager did not make. */
function partitionStart(table: string, name: string): number | null {
  const m = new RegExp(`^${table}_(\\d{4})(\\d{2})(\\d{2})$`).exec(name);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
}

/**
 * Keeps a partition of one table for every period data arrives for, and drops whole partitions past retention
 * (plain Postgres and PGlite). Under TimescaleDB the samples hypertable makes its own chunks and this leaves it alone.
 */
export class PartitionManager {
  private readonly known = new Set<number>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly timescale: boolean,
    private readonly spec: PartitionedTable = SAMPLES_TABLE,
  ) {}

  private get managed(): boolean {
    return !(this.timescale && this.spec.table === "samples");
  }

  /** Makes sure partitions exist for the periods containing these times (ms). */
  async ensureFor(times: Iterable<number>): Promise<void> {
    if (!this.managed) return;
    const w = this.spec.widthMs;
    const missing = new Set<number>();
    for (const t of times) {
      const start = Math.floor(t / w) * w;
      if (!this.known.has(start)) missing.add(start);
    }
    for (const start of missing) await this.create(start);
  }

  /** Creates the previous to the second next period's partitions, so the hot path rarely does DDL. */
  async ensureAround(now: number): Promise<void> {
    const w = this.spec.widthMs;
    await this.ensureFor([now - w, now, now + w, now + 2 * w]);
  }

  /** Drops the partitions (TimescaleDB: chunks) that hold only times before `cutoffMs`; returns their names. */
  async dropBefore(cutoffMs: number): Promise<string[]> {
    if (!this.managed) {
      const r = await sql<{ name: string }>`SELECT drop_chunks('samples', older_than => ${new Date(cutoffMs).toISOString()}::timestamptz)::text AS name`.execute(this.db);
      return r.rows.map((x) => x.name);
    }
    const { table, widthMs } = this.spec;
    const parts = await sql<{ name: string }>`
      SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = ${table}::regclass ORDER BY c.relname`.execute(this.db);
    const dropped: string[] = [];
    for (const { name } of parts.rows) {
      const start = partitionStart(table, name);
      if (start === null || start + widthMs > cutoffMs) continue;
      await sql`DROP TABLE IF EXISTS ${sql.table(name)}`.execute(this.db);
      this.known.delete(start);
      dropped.push(name);
    }
    return dropped;
  }

  private async create(start: number): Promise<void> {
    const { table, widthMs, external = [] } = this.spec;
    const name = partitionName(table, start);
    const from = new Date(start).toISOString();
    const to = new Date(start + widthMs).toISOString();
    try {
      await sql`CREATE TABLE IF NOT EXISTS ${sql.table(name)} PARTITION OF ${sql.table(table)} FOR VALUES FROM (${sql.lit(from)}) TO (${sql.lit(to)})`.execute(this.db);
      for (const column of external) await sql`ALTER TABLE ${sql.table(name)} ALTER COLUMN ${sql.ref(column)} SET STORAGE EXTERNAL`.execute(this.db);
    } catch (err) {
      // Another collector created it between our check and our CREATE: that is success.
      const exists = await sql<{ t: string | null }>`SELECT to_regclass(${name})::text AS t`.execute(this.db);
      if (!exists.rows[0]?.t) throw err;
    }
    this.known.add(start);
  }
}
