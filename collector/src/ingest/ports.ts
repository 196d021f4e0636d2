import type { Labels } from "@vigil/shared";

export interface AgentHello {
  name: string;
  agentId: string;
  labels: Labels;
  agentVersion: string;
  os: string;
  kernel: string;
  cpuCount: number;
  intervalMs: number;
  bootTimeMs: number;
}

/** A health-check run reported by an agent. */
export interface CheckRun {
  name: string;
  kind: string;
  /** 0 healthy, 1 degraded, 2 unhealthy. */
  status: number;
  durationSeconds: number;
  message: string;
  timeMs: number;
}

export interface ResolvedPoints {
  hostId: number;
  streamId: number;
  seq: number;
  timeMs: number;
  seriesIds: number[];
  values: number[];
  checks: CheckRun[];
}

/** What ingest needs from storage. */
export interface IngestStorage {
  registerHost(hello: AgentHello): Promise<{ id: number; lastSeq: number }>;
  resolveSeries(hostId: number, series: readonly { metric: string; labels: Labels }[]): Promise<number[]>;
  /** Waits for room in the write queue; `committed` settles once the points are committed. */
  enqueue(points: ResolvedPoints): Promise<{ committed: Promise<void> }>;
  /** The write queue is at its bound: agents are asked to slow down. */
  full(): boolean;
}

export interface IngestStats {
  streamsOpen: number;
  batchesReceived: number;
  pointsReceived: number;
  pointsRejectedNonFinite: number;
  protocolErrors: number;
  authFailures: number;
  batchesRejectedFuture: number;
  slowDowns: number;
}

export function newIngestStats(): IngestStats {
  return { streamsOpen: 0, batchesReceived: 0, pointsReceived: 0, pointsRejectedNonFinite: 0, protocolErrors: 0, authFailures: 0, batchesRejectedFuture: 0, slowDowns: 0 };
}

export type AuthResult = { ok: true; name: string; anyHost: boolean } | { ok: false; reason: string };

export interface AgentAuthenticator {
  authenticate(token: string | undefined): Promise<AuthResult>;
}

/** --insecure-no-auth: every agent is accepted under any hostname. */
export const noAuth: AgentAuthenticator = {
  authenticate: async () => ({ ok: true, name: "*", anyHost: true }),
};

/** A batch after its commit, with series names resolved: what alert evaluation consumes. */
export interface CommittedBatch {
  host: string;
  intervalMs: number;
  timeMs: number;
  points: { metric: string; labels: Labels; value: number }[];
  checks: CheckRun[];
}

export type IngestObserver = (b: CommittedBatch) => void;
