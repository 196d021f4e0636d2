// The rate limiter's counters when no Redis is configured: fixed windows per caller, in this process, on the
// collector's Clock (the plugin's own store reads Date.now(), which tests cannot move). Bounded: past MAX_CALLERS the
// caller seen least recently is forgotten, so a flood of addresses costs memory once, not without end.
import type { Clock } from "@vigil/shared";

/** Most callers (keys and addresses) counted at once. */
export const MAX_CALLERS = 10_000;

interface Window {
  count: number;
  startMs: number;
}

/** What @fastify/rate-limit calls a store: `incr` counts one call and says how many in the window, and for how long. */
export interface CounterStore {
  incr(key: string, cb: (err: Error | null, res?: { current: number; ttl: number }) => void, windowMs: number, max: number): void;
  child(): CounterStore;
}

export class ClockWindowStore implements CounterStore {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly clock: Clock,
    private readonly maxCallers = MAX_CALLERS,
  ) {}

  incr(key: string, cb: (err: Error | null, res?: { current: number; ttl: number }) => void, windowMs: number): void {
    const now = this.clock.now();
    let w = this.windows.get(key);
    if (w && w.startMs + windowMs > now) w.count++;
    else w = { count: 1, startMs: now };
    // Re-inserted last: the Map's first key is the caller seen least recently.
    this.windows.delete(key);
    this.windows.set(key, w);
    if (this.windows.size > this.maxCallers) this.windows.delete(this.windows.keys().next().value!);
    cb(null, { current: w.count, ttl: w.startMs + windowMs - now });
  }

  /** One counter per caller across all routes: every route shares this store. */
  child(): CounterStore {
    return this;
  }

  get size(): number {
    return this.windows.size;
  }
}
