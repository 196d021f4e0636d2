import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseUints, type SourceOptions } from "./procfs.js";
import type { MetricSource, Sample } from "./types.js";

/** RAM and swap usage from /proc/meminfo, split the way procps `free -w` does. */
export class MemorySource implements MetricSource {
  readonly name = "memory";
  private readonly path: string;
  private readonly one = new Float64Array(1);

  constructor(opts: SourceOptions = {}) {
    this.path = join(opts.procRoot ?? "/proc", "meminfo");
  }

  collect(_nowMs: number): Sample[] {
    const text = readFileSync(this.path, "utf8");
    const total = this.bytes(text, "MemTotal:") ?? 0;
    if (total <= 0) return [];
    const free = this.bytes(text, "MemFree:") ?? 0;
    const buffers = this.bytes(text, "Buffers:") ?? 0;
    // SReclaimable counts as cache so that used + free + cached + buffers = total, as in `free -w`.
    const cached = (this.bytes(text, "Cached:") ?? 0) + (this.bytes(text, "SReclaimable:") ?? 0);
    let used = total - free - buffers - cached;
    // procps does the same when cache accounting exceeds the total (seen in some containers).
    if (used < 0) used = total - free;
    // MemAvailable only exists since Linux 3.14; older kernels get the classic estimate.
    const available = this.bytes(text, "MemAvailable:") ?? Math.min(total, free + buffers + cached);
    const swapTotal = this.bytes(text, "SwapTotal:") ?? 0;
    const swapFree = this.bytes(text, "SwapFree:") ?? 0;
    const swapUsed = Math.max(0, swapTotal - swapFree);

    const mem = "system.memory.usage";
    return [
      { metric: mem, labels: { state: "used" }, value: used },
      { metric: mem, labels: { state: "free" }, value: free },
      { metric: mem, labels: { state: "cached" }, value: cached },
      { metric: mem, labels: { state: "buffers" }, value: buffers },
      { metric: mem, labels: { state: "available" }, value: available },
      { metric: "system.memory.limit", labels: {}, value: total },
      { metric: "system.memory.utilization", labels: { state: "used" }, value: clamp01((total - available) / total) },
      { metric: "system.paging.usage", labels: { state: "used" }, value: swapUsed },
      { metric: "system.paging.usage", labels: { state: "free" }, value: swapFree },
      // No swap configured reads as 0% used, not 0/0.
      { metric: "system.paging.utilization", labels: { state: "used" }, value: swapTotal > 0 ? swapUsed / swapTotal : 0 },
    ];
  }

  /** Value of the "Key:   123 kB" line in bytes, or undefined when the kernel lacks that key. */
  private bytes(text: string, key: string): number | undefined {
    let i = text.indexOf(key);
    // Require a line start so "Cached:" does not match inside "SwapCached:".
    while (i > 0 && text.charCodeAt(i - 1) !== 10) i = text.indexOf(key, i + 1);
    if (i < 0) return undefined;
    parseUints(text, i + key.length, this.one);
    return (this.one[0] ?? 0) * 1024;
  }
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
