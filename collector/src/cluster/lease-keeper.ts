// Keeps one named lease for this collector: every ttl/3 it tries to acquire the lease while it does not hold it, and
// renews it while it does. It trusts the lease only until validUntil = (local time the acquire or renew was SENT) +
// ttl − ttl/10: the store's lease runs at least ttl from when the request arrived, which is later, so this collector
// stops before another can take over; the tenth covers clocks running at slightly different rates. A refused renew
// loses the lease at once. A renew that fails (store unreachable) keeps it until validUntil, when a timer declares it
// lost: work stops within one TTL on a collector cut off from Redis, and it goes back to acquiring, so the work
// resumes (on whichever collector wins) when Redis returns. Every time decision reads the Clock; the timers only wake
// the keeper, so tests drive it with `tick()` and a ManualClock.
import type { Clock, Logger } from "@vigil/shared";
import { checkLease, checkLeaseTtl } from "./lease-input.js";
import type { LeaseStore } from "./ports.js";

export interface LeaseCounts {
  /** 1 while the lease is held, else 0. */
  held: number;
  acquired: number;
  /** Losses while running: renew refused, or not renewed before validUntil (giving it up on stop is not counted). */
  lost: number;
  /** Renews that did not extend the lease: refused, or the store failed. */
  renewFailures: number;
}

/** Per lease name, for /metrics. */
export interface LeaseStats {
  leases: Map<string, LeaseCounts>;
}

export function newLeaseStats(): LeaseStats {
  return { leases: new Map() };
}

export interface LeaseKeeperOptions {
  name: string;
  /** This collector's token, unique per process: two collectors must never pass for one another. */
  holder: string;
  ttlMs: number;
  store: LeaseStore;
  clock: Clock;
  log: Logger;
  /** The lease is held: the work it guards may start, its writes carrying this fence. */
  onAcquired?(fence: number): void;
  /** The lease is lost or given up ("stopping"): the work must stop. */
  onLost?(reason: string): void;
  stats: LeaseStats;
}

export class LeaseKeeper {
  private readonly counts: LeaseCounts = { held: 0, acquired: 0, lost: 0, renewFailures: 0 };
  /** The fencing number while the lease is held (validUntil may have passed before the expiry timer noticed). */
  private current: number | null = null;
  private validUntil = 0;
  private interval: NodeJS.Timeout | null = null;
  private expiry: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly opts: LeaseKeeperOptions) {
    // Checked here, not first by the store on every round, where a wrong setting would only show as failed rounds.
    checkLease(opts.name, opts.holder);
    checkLeaseTtl(opts.ttlMs);
    opts.stats.leases.set(opts.name, this.counts);
  }

  start(): void {
    if (this.interval !== null || this.stopped) throw new Error(`lease keeper ${this.opts.name}: start() after start() or stop()`);
    this.interval = setInterval(() => void this.tick(), Math.floor(this.opts.ttlMs / 3));
    this.interval.unref();
    void this.tick();
  }

  /** Stops the timers, then gives the lease up if it holds it. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.interval !== null) clearInterval(this.interval);
    await this.inFlight;
    if (this.current === null) return;
    const { name, holder, store, log } = this.opts;
    // The work stops before the lease is released, so another collector never starts it while this one still runs it.
    this.drop();
    log.info({ lease: name }, "lease given up: stopping");
    this.opts.onLost?.("stopping");
    try {
      await store.release(name, holder);
    } catch (err) {
      log.warn({ lease: name, err: (err as Error).message }, "lease not released; it ends with its TTL");
    }
  }

  /** Whether the lease is held and still within validUntil, right now. */
  held(): boolean {
    return this.current !== null && this.opts.clock.now() < this.validUntil;
  }

  /** The fencing number while held(), else null. */
  fence(): number | null {
    return this.held() ? this.current : null;
  }

  /**
   * Storage has recorded a larger fencing number than the lease's (the store lost its counters: Redis restarted, or
   * this is an in-process store after a restart): the counter is raised past it and the lease taken again.
   */
  async refence(recorded: number): Promise<void> {
    const { name, holder, store, log } = this.opts;
    await this.inFlight;
    if (this.current === null || this.stopped) return;
    await store.raiseFence(name, recorded);
    log.warn({ lease: name, fence: this.current, recorded }, "lease's fencing number is behind the one stored (its counter was lost): raised; acquiring the lease again");
    this.drop();
    this.opts.onLost?.("refencing");
    await store.release(name, holder);
    await this.tick();
  }

  /** One round: the lease is dropped if validUntil passed, then acquired or renewed. The timer calls it; tests too. */
  tick(): Promise<void> {
    // One store call at a time: a round that waits on the store is not overtaken by the next.
    this.inFlight ??= this.step()
      .catch((err: Error) => this.opts.log.error({ lease: this.opts.name, err: err.message }, "lease keeper round failed"))
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  private async step(): Promise<void> {
    if (this.stopped) return;
    this.expireIfDue();
    const { name, holder, ttlMs, store, log } = this.opts;
    const sentAt = this.opts.clock.now();
    if (this.current === null) {
      let fence: number | null;
      try {
        fence = await store.acquire(name, holder, ttlMs);
      } catch (err) {
        log.debug({ lease: name, err: (err as Error).message }, "lease not acquired: the store failed");
        return;
      }
      if (fence === null) return;
      this.hold(fence, sentAt);
      this.counts.acquired++;
      log.info({ lease: name, fence }, "lease acquired");
      this.opts.onAcquired?.(fence);
      return;
    }
    const fence = this.current;
    let renewed: boolean;
    try {
      renewed = await store.renew(name, holder, ttlMs);
    } catch (err) {
      this.counts.renewFailures++;
      log.warn({ lease: name, err: (err as Error).message }, "lease not renewed: the store failed; held until its validity ends");
      return;
    }
    // The expiry timer may have declared the lease lost while the renew was under way: it stays lost.
    if (this.current !== fence) return;
    if (!renewed) {
      this.counts.renewFailures++;
      this.lose("renew refused: the lease expired or another holder has it");
      return;
    }
    this.hold(fence, sentAt);
  }

  private hold(fence: number, sentAt: number): void {
    this.current = fence;
    this.validUntil = sentAt + this.opts.ttlMs - Math.ceil(this.opts.ttlMs / 10);
    this.counts.held = 1;
    this.armExpiry();
  }

  private armExpiry(): void {
    if (this.expiry !== null) clearTimeout(this.expiry);
    // The clock decides: a timer that fires before validUntil on the clock (timers and clocks disagree) waits again.
    this.expiry = setTimeout(() => (this.held() ? this.armExpiry() : this.expireIfDue()), Math.max(0, this.validUntil - this.opts.clock.now()));
    this.expiry.unref();
  }

  private expireIfDue(): void {
    if (this.current !== null && !this.held()) this.lose("not renewed in time: the lease store did not answer before the lease's validity ended");
  }

  private lose(reason: string): void {
    this.drop();
    this.counts.lost++;
    this.opts.log.warn({ lease: this.opts.name, reason }, "lease lost");
    this.opts.onLost?.(reason);
  }

  private drop(): void {
    this.current = null;
    this.counts.held = 0;
    if (this.expiry !== null) clearTimeout(this.expiry);
    this.expiry = null;
  }
}
