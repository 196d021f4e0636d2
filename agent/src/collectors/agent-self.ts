import type { MetricSource, Sample } from "./types.js";

export interface AgentSelfState {
  spool: { bytes: number; pendingBatches: number; droppedBatches: number; corruptRecords: number };
  link: { connected: boolean; skewMs: number; rejectedBatches: number; collectorSwitches: number };
}

/**
 * The agent's own health as series, so losses are visible at the collector: batches dropped from a full spool,
 * damaged spool records, batches the collector refused, the measured clock skew, and moves to another collector.
 */
export class AgentSelfSource implements MetricSource {
  readonly name = "agent";
  constructor(private readonly state: () => AgentSelfState) {}

  collect(): Sample[] {
    const { spool, link } = this.state();
    return [
      { metric: "vigil.agent.spool.bytes", labels: {}, value: spool.bytes },
      { metric: "vigil.agent.spool.pending_batches", labels: {}, value: spool.pendingBatches },
      { metric: "vigil.agent.spool.dropped_batches", labels: {}, value: spool.droppedBatches },
      { metric: "vigil.agent.spool.corrupt_records", labels: {}, value: spool.corruptRecords },
      { metric: "vigil.agent.rejected_batches", labels: {}, value: link.rejectedBatches },
      { metric: "vigil.agent.clock_skew", labels: {}, value: link.skewMs / 1000 },
      { metric: "vigil.agent.collector.switches", labels: {}, value: link.collectorSwitches },
    ];
  }
}
