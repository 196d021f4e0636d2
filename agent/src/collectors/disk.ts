import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CounterTracker } from "./counters.js";
import { parseUints, skipSpaces, tokenEnd, type SourceOptions } from "./procfs.js";
import type { MetricSource, Sample } from "./types.js";

/** diskstats counts in 512-byte sectors whatever the device's real sector size. */
const SECTOR = 512;

/** Per-disk throughput, IOPS and busy fraction from /proc/diskstats, whole devices only. */
export class DiskSource implements MetricSource {
  readonly name = "disk";
  private readonly path: string;
  private readonly sysBlock: string;
  /** Whole-device verdict per name; sysfs is only consulted the first time a name shows up. */
  private readonly wanted = new Map<string, boolean>();
  private readonly tracker = new CounterTracker<string>(5);
  /** diskstats fields after the name: reads, merged, sectors, ms, writes, merged, sectors, ms, in flight, io ms. */
  private readonly raw = new Float64Array(10);
  /** reads, sectors read, writes, sectors written, io ms */
  private readonly cur = new Float64Array(5);

  constructor(opts: SourceOptions = {}) {
    this.path = join(opts.procRoot ?? "/proc", "diskstats");
    this.sysBlock = join(opts.sysRoot ?? "/sys", "block");
  }

  collect(nowMs: number): Sample[] {
    const text = readFileSync(this.path, "utf8");
    const out: Sample[] = [];
    const { raw, cur } = this;
    this.tracker.begin();
    for (let pos = 0; pos < text.length; ) {
      // Skip major and minor numbers to reach the name.
      let i = skipSpaces(text, pos);
      i = skipSpaces(text, tokenEnd(text, i));
      i = skipSpaces(text, tokenEnd(text, i));
      const end = tokenEnd(text, i);
      const device = text.slice(i, end);
      pos = parseUints(text, end, raw);
      if (device === "" || !this.isWholeDisk(device)) continue;
      cur[0] = raw[0] ?? 0;
      cur[1] = raw[2] ?? 0;
      cur[2] = raw[4] ?? 0;
      cur[3] = raw[6] ?? 0;
      cur[4] = raw[9] ?? 0;
      const dt = this.tracker.update(device, cur, nowMs);
      if (dt <= 0) continue;
      const d = this.tracker.delta;
      out.push(
        { metric: "system.disk.io", labels: { device, direction: "read" }, value: ((d[1] ?? 0) * SECTOR) / dt },
        { metric: "system.disk.io", labels: { device, direction: "write" }, value: ((d[3] ?? 0) * SECTOR) / dt },
        { metric: "system.disk.operations", labels: { device, direction: "read" }, value: (d[0] ?? 0) / dt },
        { metric: "system.disk.operations", labels: { device, direction: "write" }, value: (d[2] ?? 0) / dt },
        // io ms can slightly exceed wall time because the kernel accounts it lazily.
        { metric: "system.disk.io_time", labels: { device }, value: Math.min(1, (d[4] ?? 0) / (dt * 1000)) },
      );
    }
    this.tracker.end();
    return out;
  }

  private isWholeDisk(device: string): boolean {
    let ok = this.wanted.get(device);
    if (ok === undefined) {
      // Partitions have no /sys/block entry; sysfs spells '/' in names (cciss/c0d0) as '!'.
      ok = !device.startsWith("loop") && !device.startsWith("ram") && existsSync(join(this.sysBlock, device.replaceAll("/", "!")));
      this.wanted.set(device, ok);
    }
    return ok;
  }
}
