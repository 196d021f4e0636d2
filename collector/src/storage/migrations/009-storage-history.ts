import { sql } from "kysely";
import type { Migration } from "./types.js";

/**
 * The database's size, once a day (the first maintenance run of each UTC day writes it): growth per day is measured
 * against it (storage/size-history.ts). A few dozen rows; older ones are deleted as new ones come.
 */
export const storageHistory: Migration = {
  id: "009-storage-history",
  async up(db) {
    await sql`
      CREATE TABLE storage_history (
        day            date PRIMARY KEY,
        time           timestamptz NOT NULL,
        database_bytes bigint NOT NULL
      )`.execute(db);
  },
};
