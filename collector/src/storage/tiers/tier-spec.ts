// The storage tiers: the compacted raw samples and the two rollups. Every window here is right-closed, `(start, end]`,
// as a query's point at `t` aggregates `(t − step, t]`: a 1-minute rollup labelled `m` holds the samples in
// `(m − 1m, m]`, so a step that is a multiple of a tier's resolution is answered exactly from that tier.
import type { PartitionedTable } from "../partitions.js";

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

export type TierName = "raw" | "1m" | "1h";
export const TIER_NAMES: readonly TierName[] = ["raw", "1m", "1h"];

export interface TierTable extends PartitionedTable {
  table: "sample_blocks" | "rollup_1m" | "rollup_1h";
  tier: TierName;
  /** Bucket width of a rollup; 0 for raw samples. */
  resolutionMs: number;
  /** Width of a block written by compaction; blocks of the hour are merged into one per day once the day closes. */
  freshBlockMs: number;
}

export const TIERS: Readonly<Record<TierName, TierTable>> = {
  raw: { tier: "raw", table: "sample_blocks", widthMs: DAY, resolutionMs: 0, freshBlockMs: HOUR, external: ["data"] },
  "1m": { tier: "1m", table: "rollup_1m", widthMs: 7 * DAY, resolutionMs: MINUTE, freshBlockMs: HOUR, external: ["data"] },
  "1h": { tier: "1h", table: "rollup_1h", widthMs: 28 * DAY, resolutionMs: HOUR, freshBlockMs: DAY, external: ["data"] },
};

/** The end of the right-closed window of width `w` that holds time `t`. */
export const windowEnd = (t: number, w: number): number => Math.ceil(t / w) * w;
