export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/**
 * Delay before attempt `attempt + 1`, after `attempt` failed ones (≥ 1): exponential with full jitter, uniform in
 * [0, min(maxMs, initialMs·2^(attempt-1))]. A receiver's Retry-After is a floor: never retry sooner than it asked.
 */
export function retryDelay(policy: BackoffPolicy, attempt: number, random: () => number, retryAfterMs?: number): number {
  const exp = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** exp);
  const jittered = Math.round(random() * ceiling);
  return retryAfterMs !== undefined && retryAfterMs > jittered ? Math.ceil(retryAfterMs) : jittered;
}
