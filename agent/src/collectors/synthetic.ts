import { readFileSync } from "node:fs";
import type { MetricSource, Sample } from "./types.js";

/**
 * Gauges whose value is read from a file each tick (`--synthetic metric=path`): for tests and for wiring values
 * from scripts. A missing or non-numeric file yields no point that tick.
 */
export class SyntheticSource implements MetricSource {
  readonly name = "synthetic";
  constructor(private readonly gauges: Record<string, string>) {}

  collect(): Sample[] {
    const out: Sample[] = [];
    for (const [metric, path] of Object.entries(this.gauges)) {
      let text: string;
      try {
        text = readFileSync(path, "utf8").trim();
      } catch {
        continue;
      }
      const value = Number(text);
      if (text !== "" && Number.isFinite(value)) out.push({ metric, labels: {}, value });
    }
    return out;
  }
}
