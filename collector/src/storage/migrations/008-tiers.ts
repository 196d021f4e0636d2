import { sql } from "kysely";
import type { Migration } from "./types.js";

/**
 * The compacted raw tier and the two rollup tiers. Each row is one series' block of a closed window `(start_time,
 * end_time]` (an hour while its day is open, then the whole day), its points in `data` in the block codec's format.
 * Range-partitioned on start_time so that retention drops whole partitions; `data` is stored EXTERNAL: it is
 * compressed already, and pglz would only spend CPU on it.
 */
export const tiers: Migration = {
  id: "008-tiers",
  async up(db) {
    for (const table of ["sample_blocks", "rollup_1m", "rollup_1h"]) {
      await sql`
        CREATE TABLE ${sql.table(table)} (
          series_id  bigint NOT NULL,
          start_time timestamptz NOT NULL,
          end_time   timestamptz NOT NULL,
          n          integer NOT NULL,
          data       bytea NOT NULL,
          PRIMARY KEY (series_id, start_time)
        ) PARTITION BY RANGE (start_time)`.execute(db);
      await sql`ALTER TABLE ${sql.table(table)} ALTER COLUMN data SET STORAGE EXTERNAL`.execute(db);
    }
  },
};
