export { Spool } from "./spool.js";
export { SPOOL_DEFAULTS, type SpoolOptions, type SpooledBatch, type SpoolStats } from "./spool-options.js";
