import type { QueryExecutorProvider } from "kysely";

export interface MigrationContext {
  /** TimescaleDB is installable here: samples becomes a hypertable instead of daily partitions. */
  timescale: boolean;
}

export interface Migration {
  id: string;
  up(db: QueryExecutorProvider, ctx: MigrationContext): Promise<void>;
}
