// What the maintenance schedule needs from storage: one run of the lifecycle job.

export interface MaintenanceReport {
  /** Set when the run did nothing, and why (another collector holds the maintenance lock). */
  skipped: string | null;
  compactedWindows: number;
  compactedSamples: number;
  blocksWritten: number;
  /** Narrow-row bytes freed minus block bytes added: an estimate (see storage/tiers/maintenance.ts). */
  bytesSaved: number;
  droppedPartitions: string[];
  deletedBlocks: number;
  corruptBlocks: number;
  /** Age of the oldest sample not yet compacted, after the run (0: none). */
  lagMs: number;
}

export interface MaintenanceStore {
  run(nowMs: number): Promise<MaintenanceReport>;
}
