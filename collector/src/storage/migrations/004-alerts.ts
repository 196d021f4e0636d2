import { sql } from "kysely";
import type { Migration } from "./types.js";

export const alerts: Migration = {
  id: "004-alerts",
  async up(db) {
    // One row per alert instance; `instance` is the engine's full state, so a restart resumes `for` timers exactly.
    await sql`
      CREATE TABLE alerts (
        id           uuid PRIMARY KEY,
        rule_name    text NOT NULL,
        key          text NOT NULL,
        state        text NOT NULL,
        severity     text NOT NULL,
        labels       jsonb NOT NULL,
        summary      text NOT NULL,
        value        double precision NOT NULL,
        active_since timestamptz NOT NULL,
        firing_since timestamptz,
        resolved_at  timestamptz,
        acknowledged jsonb,
        silenced_by  jsonb NOT NULL DEFAULT '[]',
        instance     jsonb NOT NULL,
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`.execute(db);
    await sql`CREATE INDEX alerts_open_idx ON alerts (state) WHERE state IN ('pending', 'firing')`.execute(db);
    await sql`CREATE INDEX alerts_active_since_idx ON alerts (active_since DESC)`.execute(db);
    // History and audit trail: every transition, with who did it for manual ones.
    await sql`
      CREATE TABLE alert_events (
        id       bigserial PRIMARY KEY,
        alert_id uuid NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
        time     timestamptz NOT NULL,
        kind     text NOT NULL,
        severity text NOT NULL,
        value    double precision NOT NULL,
        message  text NOT NULL
      )`.execute(db);
    await sql`CREATE INDEX alert_events_alert_idx ON alert_events (alert_id, id)`.execute(db);
    await sql`
      CREATE TABLE silences (
        id         uuid PRIMARY KEY,
        matchers   jsonb NOT NULL,
        starts_at  timestamptz NOT NULL,
        ends_at    timestamptz NOT NULL,
        comment    text NOT NULL DEFAULT '',
        created_by text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now()
      )`.execute(db);
    // Rules managed over the API (files and defaults are not stored): the spec as the user wrote it.
    await sql`
      CREATE TABLE alert_rules (
        name       text PRIMARY KEY,
        spec       jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`.execute(db);
  },
};
