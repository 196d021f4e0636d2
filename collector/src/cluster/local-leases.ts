// Leases in this process, for a collector without Redis (it runs alone, so it always gets them): the same contract as
// the Redis store, with expiry on the collector's Clock so tests move time by hand. Fencing numbers come from one
// counter for all names — still strictly increasing per name, and nothing per name has to be remembered after its
// lease ends, so the map holds live leases only. It is bounded: past MAX_LEASES live leases acquire throws rather than
// evict one (dropping a live lease would give it to two holders).
import type { Clock } from "@vigil/shared";
import { checkLease, checkLeaseTtl } from "./lease-input.js";
import type { LeaseStore } from "./ports.js";

/** Most live leases at once; the collector uses a handful of names. */
export const MAX_LEASES = 1_000;

interface Lease {
  holder: string;
  expiresAtMs: number;
}

export class LocalLeaseStore implements LeaseStore {
  private readonly leases = new Map<string, Lease>();
  private lastFence = 0;

  constructor(
    private readonly clock: Clock,
    private readonly maxLeases = MAX_LEASES,
  ) {}

  async acquire(name: string, holder: string, ttlMs: number): Promise<number | null> {
    checkLease(name, holder);
    checkLeaseTtl(ttlMs);
    const now = this.clock.now();
    if (this.live(name, now)) return null;
    if (this.leases.size >= this.maxLeases) this.sweep(now);
    if (this.leases.size >= this.maxLeases) throw new Error(`more than ${this.maxLeases} leases held at once`);
    this.leases.set(name, { holder, expiresAtMs: now + ttlMs });
    return ++this.lastFence;
  }

  async renew(name: string, holder: string, ttlMs: number): Promise<boolean> {
    checkLease(name, holder);
    checkLeaseTtl(ttlMs);
    const now = this.clock.now();
    const lease = this.live(name, now);
    if (lease?.holder !== holder) return false;
    lease.expiresAtMs = now + ttlMs;
    return true;
  }

  async raiseFence(name: string, atLeast: number): Promise<void> {
    checkLease(name, "fence");
    // One counter for every name: raising it for one raises it for all, which keeps each strictly increasing.
    this.lastFence = Math.max(this.lastFence, atLeast);
  }

  async release(name: string, holder: string): Promise<void> {
    checkLease(name, holder);
    if (this.live(name, this.clock.now())?.holder === holder) this.leases.delete(name);
  }

  /** The lease while it has not expired; an expired one is forgotten. */
  private live(name: string, now: number): Lease | undefined {
    const lease = this.leases.get(name);
    if (lease && lease.expiresAtMs <= now) {
      this.leases.delete(name);
      return undefined;
    }
    return lease;
  }

  private sweep(now: number): void {
    for (const [name, lease] of this.leases) if (lease.expiresAtMs <= now) this.leases.delete(name);
  }
}
