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
  /** The stream's token is this host's own (not --any-host): the host is bound to it from then on. */
  tokenBound: boolean;
}

/** Who a host belongs to, as stored: the identity a new Hello is checked against. */
export interface HostOwner {
  agentId: string;
  tokenBound: boolean;
  lastSeenMs: number;
  intervalMs: number;
}

/** Admits a Hello for a host that exists (undefined) or refuses it (the refusal, returned by registerHost). */
export type AdmitHost<R> = (owner: HostOwner) => R | undefined;

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

/** How a batch's commit went: points that differ from the stored ones at the same (series, time) are not stored. */
export interface CommitOutcome {
  conflicts: number;
}

/** What ingest needs from storage. */
export interface IngestStorage {
  /** Creates or refreshes the host, atomically with `admit`'s check of who owns it; a refusal is returned, not stored. */
  registerHost<R>(hello: AgentHello, admit: AdmitHost<R>): Promise<{ ok: true; id: number; lastSeq: number } | { ok: false; refusal: R }>;
  /**
   * Series ids for these keys (in order), creating missing ones; when that would take the host past `maxPerHost`
   * series nothing is created and the host's would-be total is returned instead.
   */
  resolveSeries(hostId: number, series: readonly { metric: string; labels: Labels }[], maxPerHost: number): Promise<{ ids: number[] } | { overLimit: number }>;
  /**
   * Waits for room in the write queue; `committed` settles once the points are committed. It rejects with an
   * IngestRefusal when storage refused this batch's content, else with STORAGE_UNAVAILABLE.
   */
  enqueue(points: ResolvedPoints): Promise<{ committed: Promise<CommitOutcome> }>;
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
  batchesRejectedPast: number;
  slowDowns: number;
  helloTimeouts: number;
  /** Batches and Hellos refused for their content, by reason (IngestRefusal.reason). */
  refusals: Map<string, number>;
  /** Hellos refused because another agent identity owns the host, by reason. */
  identityRefusals: Map<string, number>;
  /** Hosts moved to a new agent id (silent long enough, or ingest.allow_agent_id_change). */
  agentIdChanges: number;
}

export function newIngestStats(): IngestStats {
  return {
    streamsOpen: 0,
    batchesReceived: 0,
    pointsReceived: 0,
    pointsRejectedNonFinite: 0,
    protocolErrors: 0,
    authFailures: 0,
    batchesRejectedFuture: 0,
    batchesRejectedPast: 0,
    slowDowns: 0,
    helloTimeouts: 0,
    refusals: new Map(),
    identityRefusals: new Map(),
    agentIdChanges: 0,
  };
}

export const countBy = (m: Map<string, number>, key: string): void => {
  m.set(key, (m.get(key) ?? 0) + 1);
};

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
  /** The batch's series and, at the same index, their values: no object per point, as most match no rule. */
  series: readonly { metric: string; labels: Labels }[];
  values: readonly number[];
  checks: CheckRun[];
}

export type IngestObserver = (b: CommittedBatch) => void;

/**
 * Who wants to know where hosts stream (alert state follows a host's stream between collectors). `opened` is awaited
 * before the stream's first batch and must not throw; `closed` is called once per opened stream.
 */
export interface HostStreams {
  opened(host: string): Promise<void>;
  closed(host: string): void;
}
