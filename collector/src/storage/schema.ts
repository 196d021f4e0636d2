// Every table the migrations create, as kysely sees it. Column types follow what the driver returns: timestamptz as
// Date, int8 as number (database.ts parses it so), jsonb parsed; jsonb is written as JSON text, since pg would send a
// JS array as a Postgres array.
import type { ColumnType, Generated } from "kysely";
import type { Notification, OutboxStatus, PolicySnapshot } from "../notify/ports.js";

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamptz column with a default (now()). */
type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string, string>;
type DefaultJson<T> = ColumnType<T, string | undefined, string>;
type NullableJson<T> = ColumnType<T | null, string | null | undefined, string | null>;
type Default<T> = ColumnType<T, T | undefined, T>;
/** int8 (bigint, bigserial): parsed to a JS number; ids stay far below 2^53. */
type Int8 = number;

export interface HostsTable {
  id: Generated<number>;
  name: string;
  agent_id: string;
  token_bound: Default<boolean>;
  labels: DefaultJson<Record<string, string>>;
  agent_version: Default<string>;
  os: Default<string>;
  kernel: Default<string>;
  cpu_count: Default<number>;
  interval_ms: Default<number>;
  boot_time: NullableTimestamp;
  first_seen: DefaultTimestamp;
  last_seen: DefaultTimestamp;
  last_seq: Default<Int8>;
}

export interface SeriesTable {
  id: Generated<Int8>;
  host_id: number;
  metric: string;
  labels: DefaultJson<Record<string, string>>;
}

export interface SamplesTable {
  time: Timestamp;
  series_id: Int8;
  value: number;
}

/** A compacted tier (sample_blocks, rollup_1m, rollup_1h): one series' points of a closed window, codec-encoded. */
export interface TierBlocksTable {
  series_id: Int8;
  /** The window is (start_time, end_time]. */
  start_time: Timestamp;
  end_time: Timestamp;
  /** Points in the block. */
  n: number;
  data: Buffer;
}

export interface AgentTokensTable {
  /** The token's public part. */
  id: string;
  name: string;
  hash: Buffer;
  any_host: Default<boolean>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  revoked_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
}

export interface ApiKeysTable {
  /** The key's public part. */
  id: string;
  name: string;
  role: "viewer" | "operator" | "admin";
  hash: Buffer;
  created_at: DefaultTimestamp;
  created_by: string;
  expires_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
}

export interface AuditLogTable {
  id: Generated<Int8>;
  time: Timestamp;
  /** The key's name; null when the caller was not authenticated. */
  actor: string | null;
  role: string | null;
  key_id: string | null;
  /** "METHOD /route/pattern", or "authenticate" for a refused key. */
  action: string;
  target: string | null;
  address: string;
  /** ok, denied (401/403), refused (other 4xx), failed (5xx). */
  outcome: string;
  status: number;
  detail: string | null;
}

export interface CheckResultsTable {
  time: Timestamp;
  host_id: number;
  name: string;
  kind: string;
  /** 0 healthy, 1 degraded, 2 unhealthy. */
  status: number;
  duration_seconds: number;
  message: string;
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

/**
 * Alerting's jsonb (here and in silences and alert_rules) is read as `unknown`: a row edited by hand or written by
 * another version is checked by its reader, never trusted.
 */
export interface AlertsTable {
  /** uuid */
  id: string;
  rule_name: string;
  key: string;
  state: string;
  severity: string;
  labels: Json<unknown>;
  summary: string;
  value: number;
  active_since: Timestamp;
  firing_since: NullableTimestamp;
  resolved_at: NullableTimestamp;
  acknowledged: NullableJson<unknown>;
  silenced_by: DefaultJson<unknown>;
  /** The engine's full state of the instance. */
  instance: Json<unknown>;
  updated_at: DefaultTimestamp;
}

export interface AlertEventsTable {
  id: Generated<Int8>;
  /** uuid */
  alert_id: string;
  time: Timestamp;
  kind: string;
  severity: string;
  value: number;
  message: string;
}

export interface SilencesTable {
  /** uuid */
  id: string;
  matchers: Json<unknown>;
  starts_at: Timestamp;
  ends_at: Timestamp;
  comment: Default<string>;
  created_by: Default<string>;
  created_at: DefaultTimestamp;
}

export interface ClusterTable {
  id: string;
  created_at: DefaultTimestamp;
}

/** The highest fencing number each lease's guarded writes have carried (cluster/ports.ts). */
export interface LeaseFencesTable {
  lease: string;
  fence: Int8;
}

export interface AlertRulesTable {
  name: string;
  /** The spec as the user wrote it. */
  spec: Json<unknown>;
  updated_at: DefaultTimestamp;
}

export interface OutboxTable {
  /** uuid */
  id: string;
  receiver: string;
  group_key: string;
  kind: string;
  payload: Json<Notification>;
  content_hash: string;
  status: Default<OutboxStatus>;
  attempts: Default<number>;
  next_attempt_at: Timestamp;
  claimed_by: string | null;
  claimed_at: NullableTimestamp;
  last_error: string | null;
  created_at: Timestamp;
  delivered_at: NullableTimestamp;
}

export interface NotificationLogTable {
  group_key: string;
  receiver: string;
  content_hash: string;
  delivered_at: Timestamp;
}

export interface NotifyStateTable {
  /** Always 1: the table holds one row. */
  id: number;
  snapshot: Json<PolicySnapshot>;
  updated_at: DefaultTimestamp;
}

/** Blocks of days not yet closed, of every tier (rewritten as their day fills, so vacuumed here, not in the tiers). */
export interface FreshBlocksTable extends TierBlocksTable {
  tier: "raw" | "1m" | "1h";
}

/** The database's size, one row per UTC day (growth per day is measured against it). */
export interface StorageHistoryTable {
  /** A date, written as YYYY-MM-DD (pg reads it as a Date). */
  day: ColumnType<Date, string, string>;
  time: Timestamp;
  database_bytes: Int8;
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
  api_keys: ApiKeysTable;
  cluster: ClusterTable;
  lease_fences: LeaseFencesTable;
  audit_log: AuditLogTable;
  check_results: CheckResultsTable;
  check_state: CheckStateTable;
  alerts: AlertsTable;
  alert_events: AlertEventsTable;
  silences: SilencesTable;
  alert_rules: AlertRulesTable;
  outbox: OutboxTable;
  notification_log: NotificationLogTable;
  notify_state: NotifyStateTable;
  vigil_migrations: MigrationsTable;
  sample_blocks: TierBlocksTable;
  rollup_1m: TierBlocksTable;
  rollup_1h: TierBlocksTable;
  storage_history: StorageHistoryTable;
  fresh_blocks: FreshBlocksTable;
}
