import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseUints, type SourceOptions } from "./procfs.js";
import type { MetricSource, Sample } from "./types.js";

/** Uptime and process counts. */
export class SystemSource implements MetricSource {
  readonly name = "system";
  private readonly procRoot: string;
  private readonly uptimePath: string;
  private readonly statPath: string;
  private readonly one = new Float64Array(1);

  constructor(opts: SourceOptions = {}) {
    this.procRoot = opts.procRoot ?? "/proc";
    this.uptimePath = join(this.procRoot, "uptime");
    this.statPath = join(this.procRoot, "stat");
  }

  collect(_nowMs: number): Sample[] {
    const out: Sample[] = [];
    const uptime = parseFloat(readFileSync(this.uptimePath, "utf8"));
    if (Number.isFinite(uptime)) out.push({ metric: "system.uptime", labels: {}, value: uptime });

    const stat = readFileSync(this.statPath, "utf8");
    const running = this.statValue(stat, "\nprocs_running ");
    if (running !== undefined) out.push({ metric: "system.processes.count", labels: { status: "running" }, value: running });
    const blocked = this.statValue(stat, "\nprocs_blocked ");
    if (blocked !== undefined) out.push({ metric: "system.processes.count", labels: { status: "blocked" }, value: blocked });

    // Every numeric entry of /proc is a process (threads live under /proc/<pid>/task), so
    // checking the first character is enough and avoids a stat per entry.
    let all = 0;
    for (const entry of readdirSync(this.procRoot)) {
      const c = entry.charCodeAt(0);
      if (c >= 48 && c <= 57) all++;
    }
    out.push({ metric: "system.processes.count", labels: { status: "all" }, value: all });
    return out;
  }

  private statValue(text: string, key: string): number | undefined {
    const i = text.indexOf(key);
    if (i < 0) return undefined;
    parseUints(text, i + key.length, this.one);
    return this.one[0];
  }
}
