/**
 * Bounds on what one agent may send (the collector checks them at its edge; the agent checks its own config against them), checked at the edge before anything is stored. The byte caps keep a series'
 * key (metric + labels) well under Postgres' btree row limit (2,704 bytes) on `series (host_id, metric, labels)`.
 */
export const FIELD_LIMITS = {
  metricBytes: 200,
  labelNameBytes: 100,
  labelValueBytes: 1024,
  labelsPerSeries: 64,
  /** Label names and values of one series together. */
  seriesLabelBytes: 1536,
  pointsPerBatch: 100_000,
  checksPerBatch: 1000,
  checkNameBytes: 200,
  checkKindBytes: 64,
  /** Check messages are cut to this many characters (they quote whatever failed; refusing would wedge the agent). */
  checkMessageChars: 1000,
  hostnameBytes: 253,
  agentIdBytes: 128,
  agentVersionBytes: 64,
  osBytes: 256,
  kernelBytes: 256,
  cpuCount: 1_048_576,
  minIntervalMs: 1000,
  maxIntervalMs: 3_600_000,
  /** seq and times travel as JS numbers from here on: above 2^53 they would silently lose precision. */
  maxSeq: Number.MAX_SAFE_INTEGER,
} as const;

/** A host name as agents report it: letters, digits, ".", "-", "_". */
export const HOSTNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
