import { sql } from "kysely";
import type { Migration } from "./types.js";

/**
 * Collectors sharing this database form one cluster: its id names the cluster's leases in Redis (two clusters may
 * share a Redis), and each lease's highest fencing number seen is kept, so a write under an older one is refused.
 */
export const cluster: Migration = {
  id: "012-cluster",
  async up(db) {
    await sql`CREATE TABLE cluster (id text PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now())`.execute(db);
    await sql`INSERT INTO cluster (id) VALUES (replace(gen_random_uuid()::text, '-', ''))`.execute(db);
    await sql`CREATE TABLE lease_fences (lease text PRIMARY KEY, fence bigint NOT NULL)`.execute(db);
  },
};
