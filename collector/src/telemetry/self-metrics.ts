import { Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { IngestStats } from "../ingest/ports.js";
import { mirroredCounter, mirroredCounterByLabel } from "./mirrored-counter.js";

/** The write queue's counters, as storage's writer keeps them. */
export interface WriteQueueStats {
  readonly queuedRows: number;
  readonly committedRows: number;
  readonly commits: number;
  readonly failedCommits: number;
  readonly pointConflicts: number;
  readonly refusedBatches: number;
}

export interface SelfMetricsSources {
  ingest: IngestStats;
  writer: WriteQueueStats;
}

/** The collector's own health in Prometheus format, served at /metrics. */
export function createSelfMetrics({ ingest, writer }: SelfMetricsSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "vigil_collector_" });
  new Gauge({ name: "vigil_ingest_streams", help: "Agent streams open now", registers: [registry], collect() { this.set(ingest.streamsOpen); } });
  new Gauge({ name: "vigil_write_queue_rows", help: "Rows queued for storage, not yet committed", registers: [registry], collect() { this.set(writer.queuedRows); } });
  mirroredCounter(registry, "vigil_ingest_batches_total", "Batches received from agents", () => ingest.batchesReceived);
  mirroredCounter(registry, "vigil_ingest_points_total", "Points received from agents", () => ingest.pointsReceived);
  mirroredCounter(registry, "vigil_ingest_points_rejected_nonfinite_total", "Points dropped because their value was NaN or Inf", () => ingest.pointsRejectedNonFinite);
  mirroredCounter(registry, "vigil_ingest_batches_rejected_future_total", "Batches refused for being stamped too far in the future", () => ingest.batchesRejectedFuture);
  mirroredCounter(registry, "vigil_ingest_protocol_errors_total", "Streams closed for a protocol error", () => ingest.protocolErrors);
  mirroredCounter(registry, "vigil_ingest_auth_failures_total", "Agent streams refused: unknown, revoked or wrong-host tokens", () => ingest.authFailures);
  mirroredCounter(registry, "vigil_ingest_batches_rejected_past_total", "Batches refused for being older than ingest.max_past_age", () => ingest.batchesRejectedPast);
  mirroredCounter(registry, "vigil_ingest_hello_timeouts_total", "Streams closed for not sending Hello within ingest.hello_timeout", () => ingest.helloTimeouts);
  mirroredCounterByLabel(registry, "vigil_ingest_refusals_total", "Batches and Hellos refused for their content (INVALID_ARGUMENT), by reason", () => ingest.refusals);
  mirroredCounterByLabel(registry, "vigil_ingest_identity_refusals_total", "Hellos refused because another agent identity owns the host (PERMISSION_DENIED), by reason", () => ingest.identityRefusals);
  mirroredCounter(registry, "vigil_ingest_agent_id_changes_total", "Hosts moved to a new agent id", () => ingest.agentIdChanges);
  mirroredCounter(registry, "vigil_storage_point_conflicts_total", "Points differing from the stored point at the same series and time (not stored)", () => writer.pointConflicts);
  mirroredCounter(registry, "vigil_storage_refused_batches_total", "Batches storage refused for their content after a shared commit failed", () => writer.refusedBatches);
  mirroredCounter(registry, "vigil_ingest_slowdowns_total", "Slow-down requests sent to agents (write queue full)", () => ingest.slowDowns);
  mirroredCounter(registry, "vigil_storage_committed_rows_total", "Sample rows committed", () => writer.committedRows);
  mirroredCounter(registry, "vigil_storage_commits_total", "Write transactions committed", () => writer.commits);
  mirroredCounter(registry, "vigil_storage_failed_commits_total", "Write transactions that failed", () => writer.failedCommits);
  return registry;
}
