// What the HTTP API needs from storage. The API depends on these, never on storage/ directly.
import type { Labels } from "@vigil/shared";

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

export type Aggregation = "avg" | "min" | "max" | "last" | "sum";

export interface RangeQuery {
  metric: string;
  host?: string;
  match: Labels;
  startMs: number;
  endMs: number;
  stepMs: number;
  agg: Aggregation;
  maxSeries: number;
}

export interface RangeSeries {
  metric: string;
  labels: Labels;
  points: [number, number][];
}

export interface MetricsReader {
  listHosts(nowMs: number): Promise<HostView[]>;
  listSeries(filter: { host?: string; metric?: string; limit: number }): Promise<SeriesView[]>;
  queryRange(q: RangeQuery): Promise<RangeSeries[]>;
  /** Current state of each check of a host; null when the host is unknown. */
  hostChecks(host: string): Promise<CheckView[] | null>;
}

export interface Readiness {
  /** null when ready, otherwise why not. */
  notReadyReason(): Promise<string | null>;
}
