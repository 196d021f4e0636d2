import type { Clock, Logger } from "@vigil/shared";
import type { CheckResult } from "../checks/types.js";
import type { SeriesDef } from "../series-table.js";

export interface SpoolOptions {
  /** Created if missing. One agent process per directory. */
  dir: string;
  /** When exceeded, the oldest segments are deleted and their unacked batches counted as dropped. Default 256 MiB. */
  maxBytes?: number;
  /** Segments whose newest batch is older than now - maxAgeMs are deleted (unacked counted as dropped). Default 48 h. */
  maxAgeMs?: number;
  /** Rotate to a new segment file at about this size. Default 4 MiB. */
  segmentBytes?: number;
  /**
   * "always" (default): fsync after every append, so an appended batch survives power loss; costs one disk flush
   * per tick (well under a millisecond on SSD, tens of ms on slow or network disks).
   * "never": leave flushing to the OS (~30 s on Linux). A crash of the agent alone still loses nothing (the
   * data is in the page cache), but power loss can lose the last seconds and leave a torn tail, which the
   * reader detects and skips.
   */
  fsync?: "always" | "never";
  clock: Clock;
  log: Logger;
}

/** A batch as replayed: refs resolved to their series so it does not depend on this process's SeriesTable. */
export interface SpooledBatch {
  seq: number;
  timeMs: number;
  /** One per point. Shared between batches of a page; do not mutate. */
  series: SeriesDef[];
  values: number[];
  checks: CheckResult[];
}

export interface SpoolStats {
  segments: number;
  bytes: number;
  pendingBatches: number;
  droppedBatches: number;
  corruptRecords: number;
}

export const SPOOL_DEFAULTS = {
  maxBytes: 256 * 1024 * 1024,
  maxAgeMs: 48 * 3_600_000,
  segmentBytes: 4 * 1024 * 1024,
  fsync: "always",
} as const;

export interface ResolvedSpoolOptions {
  dir: string;
  maxBytes: number;
  maxAgeMs: number;
  segmentBytes: number;
  fsync: boolean;
  clock: Clock;
  log: Logger;
}

export function resolveSpoolOptions(opts: SpoolOptions): ResolvedSpoolOptions {
  const maxBytes = opts.maxBytes ?? SPOOL_DEFAULTS.maxBytes;
  // Space is reclaimed a whole segment at a time, so a segment must be well under the cap for the cap to hold.
  // The 1 GiB ceiling keeps record offsets within the index's u32.
  const segmentBytes = Math.max(1024, Math.min(opts.segmentBytes ?? SPOOL_DEFAULTS.segmentBytes, Math.floor(maxBytes / 4), 1 << 30));
  return {
    dir: opts.dir,
    maxBytes,
    maxAgeMs: opts.maxAgeMs ?? SPOOL_DEFAULTS.maxAgeMs,
    segmentBytes,
    fsync: (opts.fsync ?? SPOOL_DEFAULTS.fsync) === "always",
    clock: opts.clock,
    log: opts.log,
  };
}
