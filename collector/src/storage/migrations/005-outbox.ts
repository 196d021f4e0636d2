import { sql } from "kysely";
import type { Migration } from "./types.js";

export const outbox: Migration = {
  id: "005-outbox",
  async up(db) {
    // Transactional outbox: a notification is a row written in the same transaction as the alert change that caused it,
    // then delivered (at least once, deduplicated by notification_log) by whichever collector claims it.
    await sql`
      CREATE TABLE outbox (
        id              uuid PRIMARY KEY,
        receiver        text NOT NULL,
        group_key       text NOT NULL,
        kind            text NOT NULL,
        payload         jsonb NOT NULL,
        content_hash    text NOT NULL,
        status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'delivered', 'dead')),
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        claimed_by      text,
        claimed_at      timestamptz,
        last_error      text,
        created_at      timestamptz NOT NULL,
        delivered_at    timestamptz
      )`.execute(db);
    // Claims: due pending rows, and sending rows whose lease ran out.
    await sql`CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at)`.execute(db);
    // The API: by group, and by alert id inside the payload.
    await sql`CREATE INDEX outbox_group_idx ON outbox (group_key, created_at DESC)`.execute(db);
    await sql`CREATE INDEX outbox_alerts_idx ON outbox USING gin ((payload -> 'alerts') jsonb_path_ops)`.execute(db);
    // What was delivered, by content: the same content is sent once, across restarts and across collectors.
    await sql`
      CREATE TABLE notification_log (
        group_key    text NOT NULL,
        receiver     text NOT NULL,
        content_hash text NOT NULL,
        delivered_at timestamptz NOT NULL,
        PRIMARY KEY (group_key, receiver, content_hash)
      )`.execute(db);
  },
};
