import { sql } from "kysely";
import type { Migration } from "./types.js";

export const notifyState: Migration = {
  id: "006-notify-state",
  async up(db) {
    // The notification policy's state (groups, timers, escalation tiers reached), so a restart continues them.
    await sql`CREATE TABLE notify_state (id smallint PRIMARY KEY CHECK (id = 1), snapshot jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`.execute(db);
  },
};
