import { sql } from "kysely";
import type { Migration } from "./types.js";

export const initial: Migration = {
  id: "001-initial",
  async up(db, { timescale }) {
    await sql`
      CREATE TABLE hosts (
        id            serial PRIMARY KEY,
        name          text NOT NULL UNIQUE,
        agent_id      text NOT NULL,
        labels        jsonb NOT NULL DEFAULT '{}',
        agent_version text NOT NULL DEFAULT '',
        os            text NOT NULL DEFAULT '',
        kernel        text NOT NULL DEFAULT '',
        cpu_count     integer NOT NULL DEFAULT 0,
        interval_ms   integer NOT NULL DEFAULT 10000,
        boot_time     timestamptz,
        first_seen    timestamptz NOT NULL DEFAULT now(),
        last_seen     timestamptz NOT NULL DEFAULT now(),
        last_seq      bigint NOT NULL DEFAULT 0
      )`.execute(db);
    // series_id is the distribution key should samples ever be sharded (Citus, multi-node Timescale).
    await sql`
      CREATE TABLE series (
        id      bigserial PRIMARY KEY,
        host_id integer NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
        metric  text NOT NULL,
        labels  jsonb NOT NULL DEFAULT '{}',
        UNIQUE (host_id, metric, labels)
      )`.execute(db);
    await sql`CREATE INDEX series_metric_idx ON series (metric)`.execute(db);
    if (timescale) {
      await sql`CREATE EXTENSION IF NOT EXISTS timescaledb`.execute(db);
      await sql`
        CREATE TABLE samples (
          time      timestamptz NOT NULL,
          series_id bigint NOT NULL,
          value     double precision NOT NULL,
          PRIMARY KEY (series_id, time)
        )`.execute(db);
      await sql`SELECT create_hypertable('samples', 'time', chunk_time_interval => interval '1 day')`.execute(db);
      await sql`ALTER TABLE samples SET (timescaledb.compress, timescaledb.compress_segmentby = 'series_id', timescaledb.compress_orderby = 'time')`.execute(db);
    } else {
      // Daily range partitions, created ahead by the partition manager; dropping a day is cheap retention.
      await sql`
        CREATE TABLE samples (
          time      timestamptz NOT NULL,
          series_id bigint NOT NULL,
          value     double precision NOT NULL,
          PRIMARY KEY (series_id, time)
        ) PARTITION BY RANGE (time)`.execute(db);
    }
  },
};
