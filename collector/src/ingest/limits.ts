// The wire bounds live in @vigil/shared, so the agent refuses at start what the collector would refuse on every batch.
export { FIELD_LIMITS, HOSTNAME_PATTERN } from "@vigil/shared";

/** The configurable bounds (ingest.* settings). */
export interface IngestLimits {
  /** Batches stamped further ahead of the collector's clock are refused (acked as rejected). */
  maxFutureSkewMs: number;
  /** Batches older than this are refused (acked as rejected): no partition is made for any past day. */
  maxPastAgeMs: number;
  /** A stream that has not sent Hello within this is closed. */
  helloTimeoutMs: number;
  maxSeriesPerStream: number;
  maxSeriesPerHost: number;
  /** Accept a Hello whose agent id differs from the host's, even while that host is live. */
  allowAgentIdChange: boolean;
}
