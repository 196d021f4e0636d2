// What maintenance needs from storage: one run of the lifecycle job, and the storage figures after it.

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

/** What the storage watch needs of the storage figures (GET /api/v1/storage's, in part). */
export interface StorageFigures {
  tiers: readonly { tier: string; bytes: number; points: number }[];
  growth: { bytesPerDay: number | null };
  volume: { availableBytes: number | null };
  daysUntilFull: number | null;
}

export interface StorageFiguresStore {
  read(nowMs: number): Promise<StorageFigures>;
}

/** A point the collector measures about itself, for alert rules (host: the collector's host name). */
export interface OwnPoint {
  host: string;
  metric: string;
  labels: Record<string, string>;
  timeMs: number;
  value: number;
}
