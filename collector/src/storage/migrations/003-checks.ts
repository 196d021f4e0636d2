import { sql } from "kysely";
import type { Migration } from "./types.js";

export const checks: Migration = {
  id: "003-checks",
  async up(db) {
    // Every run (history); status 0 healthy, 1 degraded, 2 unhealthy.
    await sql`
      CREATE TABLE check_results (
        time             timestamptz NOT NULL,
        host_id          integer NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
        name             text NOT NULL,
        kind             text NOT NULL,
        status           smallint NOT NULL,
        duration_seconds double precision NOT NULL,
        message          text NOT NULL,
        PRIMARY KEY (host_id, name, time)
      )`.execute(db);
    // The current state of each check, and since when it has had that status.
    await sql`
      CREATE TABLE check_state (
        host_id          integer NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
        name             text NOT NULL,
        kind             text NOT NULL,
        status           smallint NOT NULL,
        since            timestamptz NOT NULL,
        last_time        timestamptz NOT NULL,
        duration_seconds double precision NOT NULL,
        message          text NOT NULL,
        PRIMARY KEY (host_id, name)
      )`.execute(db);
  },
};
