import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CounterTracker } from "./counters.js";
import { parseUints, type SourceOptions } from "./procfs.js";
import type { Labels } from "@vigil/shared";
import type { MetricSource, Sample } from "./types.js";

/** /proc/stat column order. guest/guest_nice are left out: user/nice already include them. */
const STATES = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"] as const;
const LOAD_METRICS = ["system.cpu.load_average.1m", "system.cpu.load_average.5m", "system.cpu.load_average.15m"] as const;

/** CPU time split by state (total and per core), load averages and the online core count. */
export class CpuSource implements MetricSource {
  readonly name = "cpu";
  private readonly statPath: string;
  private readonly loadavgPath: string;
  /** Keyed by the core number as written in /proc/stat; "" is the aggregate line. */
  private readonly tracker = new CounterTracker<string>(STATES.length);
  private readonly cur = new Float64Array(STATES.length);

  constructor(opts: SourceOptions = {}) {
    const proc = opts.procRoot ?? "/proc";
    this.statPath = join(proc, "stat");
    this.loadavgPath = join(proc, "loadavg");
  }

  collect(nowMs: number): Sample[] {
    const out: Sample[] = [];
    const text = readFileSync(this.statPath, "utf8");
    let cores = 0;
    this.tracker.begin();
    // The cpu lines come first; stopping after them means the long intr line is never scanned.
    for (let pos = 0; text.startsWith("cpu", pos); ) {
      const sp = text.indexOf(" ", pos);
      if (sp < 0) break;
      const cpu = text.slice(pos + 3, sp);
      if (cpu !== "") cores++;
      pos = parseUints(text, sp, this.cur);
      if (this.tracker.update(cpu, this.cur, nowMs) > 0) this.pushUtilization(out, cpu);
    }
    this.tracker.end();
    out.push({ metric: "system.cpu.logical.count", labels: {}, value: cores });
    this.pushLoad(out);
    return out;
  }

  private pushUtilization(out: Sample[], cpu: string): void {
    const d = this.tracker.delta;
    let total = 0;
    for (let i = 0; i < STATES.length; i++) total += d[i] ?? 0;
    // Two reads within one jiffy give no elapsed time to divide by.
    if (total <= 0) return;
    for (let i = 0; i < STATES.length; i++) {
      const state = STATES[i] ?? "";
      const labels: Labels = cpu === "" ? { state } : { cpu, state };
      out.push({ metric: "system.cpu.utilization", labels, value: (d[i] ?? 0) / total });
    }
  }

  private pushLoad(out: Sample[]): void {
    const fields = readFileSync(this.loadavgPath, "utf8").split(" ", 3);
    for (let i = 0; i < LOAD_METRICS.length; i++) {
      const value = Number(fields[i]);
      const metric = LOAD_METRICS[i];
      if (metric !== undefined && Number.isFinite(value)) out.push({ metric, labels: {}, value });
    }
  }
}
