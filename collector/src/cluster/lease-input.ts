// What a lease store accepts, checked alike by every store: names become Redis keys (short, one safe alphabet, so a
// name can never reach into another key space), and TTLs are bounded — under a second a lease expires between its
// renewals, over ten minutes a crashed holder blocks the work for too long.

export const MIN_LEASE_TTL_MS = 1_000;
export const MAX_LEASE_TTL_MS = 600_000;
const NAME = /^[a-z0-9:_-]{1,64}$/;
/** Holders are tokens (host, process, random part): bounded so a value stays small. */
const MAX_HOLDER_LENGTH = 200;

/** Throws RangeError when a lease name or holder is not acceptable. */
export function checkLease(name: string, holder: string): void {
  if (!NAME.test(name)) throw new RangeError(`lease name ${JSON.stringify(name)}: expected 1 to 64 of a-z 0-9 : _ -`);
  if (holder.length === 0 || holder.length > MAX_HOLDER_LENGTH) throw new RangeError(`lease holder of ${holder.length} characters: expected 1 to ${MAX_HOLDER_LENGTH}`);
}

/** Throws RangeError when a TTL is not a whole number of milliseconds within the bounds. */
export function checkLeaseTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs < MIN_LEASE_TTL_MS || ttlMs > MAX_LEASE_TTL_MS) {
    throw new RangeError(`lease TTL ${ttlMs} ms: expected a whole number from ${MIN_LEASE_TTL_MS} to ${MAX_LEASE_TTL_MS}`);
  }
}
