// What the HTTP API needs from storage. The API depends on these, never on storage/ directly.
import type { Labels } from "@vigil/shared";
import type { Principal, Role } from "./access.js";

/** Bounds of what people type on alerts and silences: who did it, and why (also what a forwarded change may carry). */
export const TEXT_LIMITS = { by: 100, comment: 1000 } as const;

export interface HostView {
  name: string;
  agentId: string;
  labels: Labels;
  agentVersion: string;
  os: string;
  kernel: string;
  cpuCount: number;
  intervalMs: number;
  bootTime: string | null;
  firstSeen: string;
  lastSeen: string;
  up: boolean;
  /** Worst current health-check status, or null when the host has no checks. */
  health: CheckStatusName | null;
}

export type CheckStatusName = "healthy" | "degraded" | "unhealthy";

export interface CheckView {
  name: string;
  kind: string;
  status: CheckStatusName;
  /** Since when the check has had this status. */
  since: string;
  lastRun: string;
  durationSeconds: number;
  message: string;
}

export interface SeriesView {
  id: number;
  host: string;
  metric: string;
  labels: Labels;
}

export type Aggregation = "avg" | "min" | "max" | "last" | "sum" | "count";

/** Which series a range query reads: one metric, optionally one host, and label matchers. */
export interface SeriesSelector {
  metric: string;
  host?: string;
  /** Labels (`host` included) every wanted series has with exactly these values: narrows candidates in storage. */
  exact: Labels;
  /** The full test of a candidate's labels (`host` included). */
  accept: (labels: Labels) => boolean;
  /** Most series returned; finding one more stops the search (`overflow: "series"`). */
  maxSeries: number;
  /** Most candidates (series of the metric passing `exact`) examined; past it `overflow: "candidates"`. */
  maxCandidates: number;
  /** Time (clock ms) past which storage cancels the work (a VGL_ERR_QUERY_TIMEOUT error). */
  deadlineMs: number;
}

export interface SelectedSeries {
  id: number;
  metric: string;
  /** Its labels, with `host`. */
  labels: Labels;
  /** Its host's reporting interval (ms): about how many samples a range holds. */
  intervalMs: number;
}

export interface SeriesSelection {
  /** Ordered by id. */
  series: SelectedSeries[];
  overflow: null | "series" | "candidates";
}

export interface RangeRead {
  startMs: number;
  endMs: number;
  stepMs: number;
  agg: Aggregation;
  deadlineMs: number;
}

/** One series of a range answer. */
export interface RangeSeries {
  metric: string;
  labels: Labels;
  /**
   * Its points, `[[unix_ms, value], …]` oldest first, as JSON text: a large answer streams without a JS object per
   * point (that garbage grew the heap for good under a few concurrent large queries).
   */
  pointsJson: string;
}

export interface MetricsReader {
  /** Hosts by name, at most `limit`. */
  listHosts(nowMs: number, limit: number): Promise<HostView[]>;
  listSeries(filter: { host?: string; metric?: string; limit: number }): Promise<SeriesView[]>;
  selectSeries(s: SeriesSelector): Promise<SeriesSelection>;
  /** About how many stored points (samples, or rollup buckets of the tier that answers) reading the range costs. */
  estimateRead(series: readonly SelectedSeries[], r: Pick<RangeRead, "startMs" | "endMs" | "stepMs">): number;
  /**
   * The bucketed points of the selected series, one series at a time in their order (those without points in the
   * range are left out), read in bounded chunks: memory holds one chunk, whatever the range.
   */
  readRange(series: readonly SelectedSeries[], r: RangeRead): AsyncIterable<RangeSeries>;
  /** Current state of each check of a host; null when the host is unknown. */
  hostChecks(host: string): Promise<CheckView[] | null>;
}

export interface Readiness {
  /** null when ready, otherwise why not. */
  notReadyReason(): Promise<string | null>;
}

export interface AlertFilter {
  state?: string;
  severity?: string;
  host?: string;
  limit: number;
}

export interface AlertView {
  id: string;
  rule: string;
  state: string;
  severity: string;
  labels: Labels;
  summary: string;
  value: number;
  activeSince: string;
  firingSince: string | null;
  resolvedAt: string | null;
  acknowledged: { by: string; at: string; comment: string } | null;
  silencedBy: string[];
}

export interface AlertEventView {
  /** Cursor order: a later event has a larger id. */
  id: string;
  time: string;
  kind: string;
  severity: string;
  value: number;
  message: string;
}

/** A page of an alert's events: the `limit` latest with an id below `before` (a decimal event id). */
export interface EventsPageQuery {
  limit: number;
  before?: string;
}

export interface EventPage {
  /** Oldest first. */
  events: AlertEventView[];
  /** `before` for the next (older) page; null when there is none. */
  next: string | null;
}

export interface SilenceInput {
  matchers: Labels;
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy: string;
}

/** A silence as requested: its matchers are not checked yet. */
export interface NewSilence extends Omit<SilenceInput, "matchers"> {
  matchers: unknown;
}

export interface SilenceView extends SilenceInput {
  id: string;
}

export interface RuleView {
  name: string;
  kind: string;
  source: "default" | "file" | "api";
}

export interface DryRunEvent {
  time: string;
  kind: string;
  severity: string;
  value: number;
  labels: Labels;
}

/** Alerts, silences and rules, as the API sees them. */
export interface AlertingApi {
  listAlerts(f: AlertFilter): Promise<AlertView[]>;
  /** The alert with a page of its events (`eventsBefore`: the cursor to older ones). */
  getAlert(id: string, events: EventsPageQuery): Promise<(AlertView & { events: AlertEventView[]; eventsBefore: string | null }) | null>;
  alertEvents(id: string, q: EventsPageQuery): Promise<EventPage | null>;
  /** Stores before answering: a store failure is a STORAGE_UNAVAILABLE error and changes nothing. */
  acknowledge(id: string, by: string, comment: string): Promise<void>;
  unacknowledge(id: string, by: string): Promise<void>;
  resolve(id: string, by: string): Promise<void>;
  /** Active and future silences; stored rows that fail validation are listed apart (and ignored by alerting). */
  listSilences(): Promise<{ silences: SilenceView[]; invalid: { id: string; problem: string }[] }>;
  /** Validates the matchers (BAD_PARAM naming `matchers.NAME`) and stores the silence. */
  createSilence(s: NewSilence): Promise<SilenceView>;
  deleteSilence(id: string): Promise<boolean>;
  listRules(): Promise<RuleView[]>;
  /** Validates and stores an API rule; problems name the field. */
  putRule(name: string, spec: unknown): Promise<{ problems: string[] }>;
  deleteRule(name: string): Promise<boolean>;
  /** Evaluates a rule over stored history: when it would have fired and resolved. */
  dryRun(spec: unknown, startMs: number, endMs: number): Promise<{ problems: string[]; events: DryRunEvent[] }>;
}

export interface NotificationView {
  id: string;
  receiver: string;
  groupKey: string;
  kind: string;
  status: string;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  alertIds: string[];
}

export interface NotificationsApi {
  list(f: { alertId?: string; status?: string; limit: number }): Promise<NotificationView[]>;
  /** Sends a test message to a receiver now; null when no receiver has that name. */
  testReceiver(name: string): Promise<{ outcome: string; detail: string } | null>;
}

/**
 * Where samples are stored: `narrow` rows not compacted yet, `fresh` blocks of days still open (all tiers), compacted
 * raw blocks of closed days, the 1-minute and 1-hour rollups of closed days.
 */
export type StorageTierName = "narrow" | "fresh" | "raw" | "1m" | "1h";

export interface StorageTierView {
  tier: StorageTierName;
  /** The tier's partitioned table. */
  table: string;
  partitions: number;
  /** Every partition's heap, TOAST and indexes. */
  bytes: number;
  /** Samples (narrow, raw) or rollup buckets (1m, 1h). */
  points: number;
  /** `points` is an estimate (the narrow tier past 1,000,000 rows: the planner's statistics). */
  pointsEstimated: boolean;
  /** null without points. */
  bytesPerPoint: number | null;
  /** The earliest point's time (RFC 3339); null when the tier is empty. */
  oldestPoint: string | null;
  /** false when the oldest blocks were too many to decode: the true oldest point is at or before `oldestPoint`. */
  oldestPointExact: boolean;
}

export interface StorageView {
  measuredAt: string;
  database: { kind: "postgres" | "pglite"; bytes: number };
  tiers: StorageTierView[];
  /** Growth of the database's size per day, over about the last week; null with the reason when unknown. */
  growth: { bytesPerDay: number | null; since: string | null; reason: string | null };
  /** The space the database grows into (`statfs` of its directory or `storage.volume_size`); nulls with the reason when unknown. */
  volume: { source: "statfs" | "setting" | null; path: string | null; sizeBytes: number | null; availableBytes: number | null; reason: string | null };
  /** availableBytes ÷ bytesPerDay; null with the reason when unknown or not growing. */
  daysUntilFull: number | null;
  daysUntilFullReason: string | null;
}

export interface StorageStatsReader {
  /** Measures now: sizes from the catalog, counts from a scan of the tiers' block rows (not their data). */
  read(nowMs: number): Promise<StorageView>;
}

// --- Access: API keys, agent tokens and the audit log (README "Access control").

/** An API key as listed: never its secret, which is shown once at creation. */
export interface ApiKeyView {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** Why a request's key was not accepted (also the `reason` label of the failure counter). */
export type AuthFailure = "missing" | "malformed" | "unknown" | "expired" | "revoked";

export type KeyCheck =
  | { ok: true; principal: Principal & { keyId: string }; expiresAtMs: number | null }
  | { ok: false; reason: Exclude<AuthFailure, "missing">; keyId?: string; name?: string };

export interface NewApiKey {
  name: string;
  role: Role;
  expiresAtMs: number | null;
  createdBy: string;
}

export interface ApiKeys {
  /** The new key's secret is in `key`, returned this once. A name in use by an active key is a CONFLICT. */
  create(k: NewApiKey): Promise<{ key: string; view: ApiKeyView }>;
  list(): Promise<ApiKeyView[]>;
  /** By name or id; false when no active key matches. */
  revoke(nameOrId: string): Promise<boolean>;
  authenticate(key: string, nowMs: number): Promise<KeyCheck>;
  /** Whether any key is active (not revoked, not expired): the loopback open-access default ends with the first. */
  anyActive(nowMs: number): Promise<boolean>;
}

export interface AgentTokenView {
  id: string;
  name: string;
  anyHost: boolean;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface AgentTokens {
  create(name: string, anyHost: boolean): Promise<{ token: string; id: string }>;
  list(): Promise<AgentTokenView[]>;
  revoke(nameOrId: string): Promise<boolean>;
}

/** The outcome of a call as the audit log keeps it. */
export type AuditOutcome = "ok" | "denied" | "refused" | "failed";

export interface AuditEntry {
  timeMs: number;
  /** The key's name, or null for a caller without a valid key. */
  actor: string | null;
  role: Role | null;
  keyId: string | null;
  /** "POST /api/v1/silences", or "authenticate" for a refused key. */
  action: string;
  target: string | null;
  address: string;
  outcome: AuditOutcome;
  status: number;
  detail: string | null;
}

export interface AuditView extends Omit<AuditEntry, "timeMs"> {
  id: string;
  time: string;
}

export interface AuditQuery {
  limit: number;
  /** Entries older than this id (the previous page's `next`). */
  before?: string;
  sinceMs?: number;
  actor?: string;
  outcome?: AuditOutcome;
}

export interface AuditLog {
  record(e: AuditEntry): Promise<void>;
  /** Newest first; `next` is the cursor of the following page, null at the end. */
  list(q: AuditQuery): Promise<{ entries: AuditView[]; next: string | null }>;
}
