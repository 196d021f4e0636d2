interface Entry {
  vals: Float64Array;
  ms: number;
  gen: number;
}

/**
 * Remembers the previous reading of monotonic counters per key (core, device, interface) so
 * sources can turn them into rates. Keys missing from a tick are forgotten, so unplugged devices
 * don't leak and re-plugged ones start fresh instead of averaging over the gap.
 */
export class CounterTracker<K> {
  private readonly entries = new Map<K, Entry>();
  private gen = 0;
  /** Deltas of the last `update`, overwritten by the next one. */
  readonly delta: Float64Array;

  constructor(width: number) {
    this.delta = new Float64Array(width);
  }

  begin(): void {
    this.gen++;
  }

  /**
   * Stores `cur` for `key` and returns the seconds since its previous reading, or 0 when there is
   * no usable one: first sight, clock not advancing, or any counter going backwards (wrap, driver
   * reload, reset). Those points are skipped rather than reported as absurd rates.
   */
  update(key: K, cur: Float64Array, nowMs: number): number {
    const e = this.entries.get(key);
    if (e === undefined) {
      this.entries.set(key, { vals: cur.slice(), ms: nowMs, gen: this.gen });
      return 0;
    }
    const dtMs = nowMs - e.ms;
    let ok = dtMs > 0;
    for (let i = 0; i < cur.length; i++) {
      const d = (cur[i] ?? 0) - (e.vals[i] ?? 0);
      if (d < 0) ok = false;
      this.delta[i] = d;
    }
    e.vals.set(cur);
    e.ms = nowMs;
    e.gen = this.gen;
    return ok ? dtMs / 1000 : 0;
  }

  /** Drops keys not updated since `begin`. */
  end(): void {
    for (const [key, e] of this.entries) if (e.gen !== this.gen) this.entries.delete(key);
  }
}
