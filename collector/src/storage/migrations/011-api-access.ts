import { sql } from "kysely";
import type { Migration } from "./types.js";

/** API keys (stored as agent tokens are: a public id and a hash) and the audit log of the HTTP API. */
export const apiAccess: Migration = {
  id: "011-api-access",
  async up(db) {
    await sql`
      CREATE TABLE api_keys (
        id           text PRIMARY KEY,
        name         text NOT NULL,
        role         text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        hash         bytea NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        created_by   text NOT NULL,
        expires_at   timestamptz,
        revoked_at   timestamptz,
        last_used_at timestamptz
      )`.execute(db);
    // A revoked key keeps its row (the audit log names it) and frees its name.
    await sql`CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL`.execute(db);
    await sql`
      CREATE TABLE audit_log (
        id       bigserial PRIMARY KEY,
        time     timestamptz NOT NULL,
        actor    text,
        role     text,
        key_id   text,
        action   text NOT NULL,
        target   text,
        address  text NOT NULL,
        outcome  text NOT NULL,
        status   integer NOT NULL,
        detail   text
      )`.execute(db);
    await sql`CREATE INDEX audit_log_time ON audit_log (time)`.execute(db);
  },
};
