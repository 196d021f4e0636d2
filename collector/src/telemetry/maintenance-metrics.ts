// Storage maintenance on /metrics: when it last ran and how long it took, what it did, how far compaction trails.
import { Gauge, type Registry } from "prom-client";
import type { MaintenanceStats } from "../maintenance/schedule.js";
import { mirroredCounter } from "./mirrored-counter.js";

export function registerMaintenanceMetrics(registry: Registry, s: MaintenanceStats): void {
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  gauge("vigil_storage_maintenance_last_run_timestamp_seconds", "When storage maintenance last ran (0: not yet)", () => s.lastRunMs / 1000);
  gauge("vigil_storage_maintenance_last_success_timestamp_seconds", "When storage maintenance last completed (0: not yet)", () => s.lastSuccessMs / 1000);
  gauge("vigil_storage_maintenance_duration_seconds", "How long the last storage maintenance run took", () => s.lastDurationMs / 1000);
  gauge("vigil_storage_compaction_lag_seconds", "Age of the oldest sample not yet compacted, after the last run", () => s.lagMs / 1000);
  mirroredCounter(registry, "vigil_storage_maintenance_runs_total", "Storage maintenance runs started", () => s.runs);
  mirroredCounter(registry, "vigil_storage_maintenance_failures_total", "Storage maintenance runs that failed", () => s.failures);
  mirroredCounter(registry, "vigil_storage_maintenance_skipped_total", "Runs skipped because another collector held the maintenance lock", () => s.skipped);
  mirroredCounter(registry, "vigil_storage_compacted_samples_total", "Samples compacted into blocks", () => s.compactedSamples);
  mirroredCounter(registry, "vigil_storage_compaction_bytes_saved_total", "Estimated bytes saved by compaction (narrow rows freed minus block bytes added)", () => Math.max(0, s.bytesSaved));
  mirroredCounter(registry, "vigil_storage_retention_dropped_partitions_total", "Partitions dropped by retention", () => s.droppedPartitions);
  mirroredCounter(registry, "vigil_storage_retention_deleted_blocks_total", "Blocks deleted by per-metric retention overrides", () => s.deletedBlocks);
  mirroredCounter(registry, "vigil_storage_corrupt_blocks_total", "Stored blocks that could not be decoded (left as they are, reported)", () => s.corruptBlocks);
}
