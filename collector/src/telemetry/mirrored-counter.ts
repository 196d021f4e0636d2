// Prometheus counters that mirror numbers the collector keeps itself (stats objects), read at scrape time.
import { Counter, type Registry } from "prom-client";

/** A counter that mirrors a monotonically growing number kept elsewhere (read at scrape time). */
export function mirroredCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const v = read();
      if (v > seen) this.inc(v - seen);
      seen = v;
    },
  });
}

/** Like mirroredCounter, one series per value of one label (`reason` unless named). */
export function mirroredCounterByLabel(registry: Registry, name: string, help: string, read: () => ReadonlyMap<string, number>, label = "reason"): void {
  const seen = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      for (const [value, v] of read()) {
        const before = seen.get(value) ?? 0;
        // Incremented by 0 too: a label value the stats list shows from 0 (a lease not yet lost), not only once counted.
        this.inc({ [label]: value }, Math.max(0, v - before));
        seen.set(value, v);
      }
    },
  });
}
