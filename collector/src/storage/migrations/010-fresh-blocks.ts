import { sql } from "kysely";
import type { Migration } from "./types.js";

/**
 * Blocks of days not yet closed, of every tier. They are rewritten as their day fills (hour blocks, the day's 1-hour
 * rollup block), so their dead versions land in this one small table, where vacuum reuses the space every day,
 * rather than in the tier tables' partitions, which then receive each day's blocks once and never hold dead space.
 */
export const freshBlocks: Migration = {
  id: "010-fresh-blocks",
  async up(db) {
    await sql`
      CREATE TABLE fresh_blocks (
        tier       text NOT NULL CHECK (tier IN ('raw', '1m', '1h')),
        series_id  bigint NOT NULL,
        start_time timestamptz NOT NULL,
        end_time   timestamptz NOT NULL,
        n          integer NOT NULL,
        data       bytea NOT NULL,
        PRIMARY KEY (tier, series_id, start_time)
      )`.execute(db);
    await sql`ALTER TABLE fresh_blocks ALTER COLUMN data SET STORAGE EXTERNAL`.execute(db);
  },
};
