export interface BreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long it stays open before one trial is let through (half-open). */
  openMs: number;
}

export type BreakerState = "closed" | "open" | "half_open";

/**
 * One receiver's circuit: closed until `failureThreshold` consecutive failures, then open (nothing sent) for `openMs`,
 * then half-open: one trial goes through; success closes it, failure opens it again for another `openMs`.
 * Time is passed in, so it is tested with a manual clock.
 */
export class CircuitBreaker {
  private current: BreakerState = "closed";
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  /** The failure that opened (or last kept open) the circuit. */
  lastError: string | null = null;

  constructor(private readonly opts: BreakerOptions) {}

  state(now: number): BreakerState {
    return this.current === "open" && now >= this.openedAt + this.opts.openMs ? "half_open" : this.current;
  }

  /** Whether a send may go out now; in half-open, true once (the trial) until its outcome is recorded. */
  allow(now: number): boolean {
    if (this.current === "closed") return true;
    if (this.current === "open") {
      if (now < this.openedAt + this.opts.openMs) return false;
      this.current = "half_open";
      this.trialInFlight = false;
    }
    if (this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  /** When a send refused now should be tried again. */
  retryAt(now: number): number {
    return this.current === "open" ? this.openedAt + this.opts.openMs : now + this.opts.openMs;
  }

  /** The receiver answered (delivered, or refused for good: it is up either way). */
  success(): void {
    this.current = "closed";
    this.failures = 0;
    this.trialInFlight = false;
  }

  /** A failed send; true when this failure opened the circuit. */
  failure(now: number, error: string): boolean {
    this.failures++;
    this.lastError = error;
    this.trialInFlight = false;
    if (this.current === "half_open" || (this.current === "closed" && this.failures >= this.opts.failureThreshold)) {
      this.current = "open";
      this.openedAt = now;
      return true;
    }
    return false;
  }
}
