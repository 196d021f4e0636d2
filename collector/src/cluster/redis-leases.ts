// Leases in Redis, shared by every collector: `vigil:lease:<cluster>:<name>` holds the holder's token and expires
// with the lease; `vigil:fence:<cluster>:<name>` counts acquisitions and never expires, so fencing numbers only grow.
// Each operation is one Lua script, atomic on the server: acquire (SET NX PX, as a check then a SET) counts the fence
// and sets the lease together, so a crash between the two cannot leave a lease without its number; renew and release
// act only while the key still holds the caller's token (never on a lease that expired and went to another). One
// Redis, not Redis Cluster: a script's two keys may lie in different slots. Errors from Redis propagate; the caller
// decides what an unreachable Redis means.
import type { Redis } from "ioredis";
import { checkLease, checkLeaseTtl } from "./lease-input.js";
import type { LeaseStore } from "./ports.js";

const LEASE_PREFIX = "vigil:lease:";
const FENCE_PREFIX = "vigil:fence:";

// KEYS: lease, fence. ARGV: holder, ttl. A script is not rolled back when a command in it fails, so the fence is
// counted before the lease is set: should INCR fail (the key is not a counter), no lease is left without its number.
const ACQUIRE = `
if redis.call("EXISTS", KEYS[1]) == 1 then
  return false
end
local fence = redis.call("INCR", KEYS[2])
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
return fence`;

// KEYS: lease. ARGV: holder, ttl.
const RENEW = `
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`;

// KEYS: lease. ARGV: holder.
const RELEASE = `
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0`;

// KEYS: fence. ARGV: at least. A counter that is not a number is left for acquire to refuse.
const RAISE = `
local current = tonumber(redis.call("GET", KEYS[1]) or "0")
if current ~= nil and current < tonumber(ARGV[1]) then
  redis.call("SET", KEYS[1], ARGV[1])
end
return 0`;

export class RedisLeaseStore implements LeaseStore {
  private readonly leasePrefix: string;
  private readonly fencePrefix: string;

  /** `cluster`: the id of the collectors' database, so that two clusters sharing a Redis never share a lease. */
  constructor(
    private readonly redis: Redis,
    cluster: string,
  ) {
    checkLease(cluster, "cluster");
    this.leasePrefix = `${LEASE_PREFIX}${cluster}:`;
    this.fencePrefix = `${FENCE_PREFIX}${cluster}:`;
  }

  async acquire(name: string, holder: string, ttlMs: number): Promise<number | null> {
    checkLease(name, holder);
    checkLeaseTtl(ttlMs);
    const fence = await this.redis.eval(ACQUIRE, 2, this.leasePrefix + name, this.fencePrefix + name, holder, ttlMs);
    if (fence === null) return null;
    if (typeof fence !== "number") throw new Error(`lease ${name}: Redis answered ${typeof fence} for a fencing number`);
    return fence;
  }

  async renew(name: string, holder: string, ttlMs: number): Promise<boolean> {
    checkLease(name, holder);
    checkLeaseTtl(ttlMs);
    return (await this.redis.eval(RENEW, 1, this.leasePrefix + name, holder, ttlMs)) === 1;
  }

  async raiseFence(name: string, atLeast: number): Promise<void> {
    checkLease(name, "fence");
    if (!Number.isSafeInteger(atLeast) || atLeast < 0) throw new RangeError(`fencing number ${atLeast}: expected a whole number`);
    await this.redis.eval(RAISE, 1, this.fencePrefix + name, atLeast);
  }

  async release(name: string, holder: string): Promise<void> {
    checkLease(name, holder);
    await this.redis.eval(RELEASE, 1, this.leasePrefix + name, holder);
  }
}
