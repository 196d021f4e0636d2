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

/** Like mirroredCounter, one series per `reason` label. */
export function mirroredCounterByLabel(registry: Registry, name: string, help: string, read: () => ReadonlyMap<string, number>): void {
  const seen = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames: ["reason"],
    registers: [registry],
    collect() {
      for (const [reason, v] of read()) {
        const before = seen.get(reason) ?? 0;
        if (v > before) this.inc({ reason }, v - before);
        seen.set(reason, v);
      }
    },
  });
}
