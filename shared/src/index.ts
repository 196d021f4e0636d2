export * from "./clock.js";
export * from "./duration.js";
export * from "./errors.js";
export * from "./host-port.js";
export * from "./backoff.js";
export * from "./labels.js";
export * from "./logger.js";
export * from "./version.js";
