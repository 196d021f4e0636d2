import type { CheckResult } from "./checks/types.js";

/** One sampling tick, waiting for its Ack. Refs point into the agent's SeriesTable. */
export interface PendingBatch {
  seq: number;
  timeMs: number;
  refs: number[];
  values: number[];
  /** Health-check runs finished since the previous tick. */
  checks?: CheckResult[];
}
