import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CounterTracker } from "./counters.js";
import { nextLine, parseUints, skipSpaces, type SourceOptions } from "./procfs.js";
import type { MetricSource, Sample } from "./types.js";

/** Our counter slots: receive then transmit, each bytes, packets, errors, dropped. */
const METRICS = ["system.network.io", "system.network.packets", "system.network.errors", "system.network.dropped"] as const;

/** Per-interface traffic rates from /proc/net/dev, loopback excluded. */
export class NetworkSource implements MetricSource {
  readonly name = "network";
  private readonly path: string;
  private readonly tracker = new CounterTracker<string>(8);
  /** The 16 /proc/net/dev columns: 8 receive then 8 transmit. */
  private readonly raw = new Float64Array(16);
  private readonly cur = new Float64Array(8);

  constructor(opts: SourceOptions = {}) {
    this.path = join(opts.procRoot ?? "/proc", "net", "dev");
  }

  collect(nowMs: number): Sample[] {
    const text = readFileSync(this.path, "utf8");
    const out: Sample[] = [];
    const { raw, cur } = this;
    this.tracker.begin();
    // Two header lines, then "  name: counters…" (no space after the colon on old kernels).
    for (let pos = nextLine(text, nextLine(text, 0)); pos < text.length; ) {
      const eol = nextLine(text, pos);
      const colon = text.indexOf(":", pos);
      if (colon < 0 || colon >= eol) {
        pos = eol;
        continue;
      }
      const device = text.slice(skipSpaces(text, pos), colon);
      pos = parseUints(text, colon + 1, raw);
      if (device === "lo") continue;
      for (let i = 0; i < 4; i++) {
        cur[i] = raw[i] ?? 0;
        cur[i + 4] = raw[i + 8] ?? 0;
      }
      const dt = this.tracker.update(device, cur, nowMs);
      if (dt <= 0) continue;
      const d = this.tracker.delta;
      for (let i = 0; i < METRICS.length; i++) {
        const metric = METRICS[i] ?? "";
        out.push(
          { metric, labels: { device, direction: "receive" }, value: (d[i] ?? 0) / dt },
          { metric, labels: { device, direction: "transmit" }, value: (d[i + 4] ?? 0) / dt },
        );
      }
    }
    this.tracker.end();
    return out;
  }
}
