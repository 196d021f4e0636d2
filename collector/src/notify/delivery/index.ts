export { DeliveryWorker, type DeliveryStats, type DeliveryWorkerOptions } from "./worker.js";
export { CircuitBreaker, type BreakerOptions, type BreakerState } from "./circuit-breaker.js";
export { retryDelay, type BackoffPolicy } from "./backoff-policy.js";
export { contentHash } from "./content-hash.js";
