import type { ColumnType, Generated } from "kysely";

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface HostsTable {
  id: Generated<number>;
  name: string;
  agent_id: string;
  token_bound: ColumnType<boolean, boolean | undefined, boolean>;
  labels: Json<Record<string, string>>;
  agent_version: string;
  os: string;
  kernel: string;
  cpu_count: number;
  interval_ms: number;
  boot_time: Timestamp | null;
  first_seen: ColumnType<Date, Date | string | undefined, Date | string>;
  last_seen: ColumnType<Date, Date | string | undefined, Date | string>;
  last_seq: ColumnType<number, number | undefined, number>;
}

export interface SeriesTable {
  id: Generated<number>;
  host_id: number;
  metric: string;
  labels: Json<Record<string, string>>;
}

export interface SamplesTable {
  time: Timestamp;
  series_id: number;
  value: number;
}

export interface AgentTokensTable {
  id: string;
  name: string;
  hash: Buffer;
  any_host: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface CheckStateTable {
  host_id: number;
  name: string;
  kind: string;
  status: number;
  since: Timestamp;
  last_time: Timestamp;
  duration_seconds: number;
  message: string;
}

export interface MigrationsTable {
  id: string;
  applied_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface Database {
  hosts: HostsTable;
  series: SeriesTable;
  samples: SamplesTable;
  agent_tokens: AgentTokensTable;
  check_state: CheckStateTable;
  vigil_migrations: MigrationsTable;
}
