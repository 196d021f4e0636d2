import { sql } from "kysely";
import type { Migration } from "./types.js";

export const agentTokens: Migration = {
  id: "002-agent-tokens",
  async up(db) {
    // Only a hash of each token is stored; `id` is the token's public part, used to find the row.
    await sql`
      CREATE TABLE agent_tokens (
        id           text PRIMARY KEY,
        name         text NOT NULL,
        hash         bytea NOT NULL,
        any_host     boolean NOT NULL DEFAULT false,
        created_at   timestamptz NOT NULL DEFAULT now(),
        revoked_at   timestamptz,
        last_used_at timestamptz
      )`.execute(db);
    // A revoked token keeps its row (audit) and frees its name.
    await sql`CREATE UNIQUE INDEX agent_tokens_active_name ON agent_tokens (name) WHERE revoked_at IS NULL`.execute(db);
  },
};
