// One copy of each series' metric name and labels for all streams. Every agent of a fleet declares the same shapes
// (system.cpu.time {cpu: "0", state: "user"}, …) under its own host, and each stream's table kept its own decoded
// strings and label objects: about 100 bytes a series, 10 kB a stream, most of a stream's own memory. Bounded: past
// MAX_SHAPES distinct shapes (hostile or very diverse labels) new ones are not kept, only used.
import { labelsKey, type Labels } from "@vigil/shared";

export interface SeriesShape {
  readonly metric: string;
  readonly labels: Readonly<Labels>;
}

/** Distinct shapes kept; a real fleet has a few thousand (the agent's families × cores, disks, interfaces, mounts). */
export const MAX_SHAPES = 100_000;

export class SeriesShapes {
  private readonly shapes = new Map<string, SeriesShape>();

  constructor(private readonly max = MAX_SHAPES) {}

  get size(): number {
    return this.shapes.size;
  }

  /** The shared shape equal to this one (frozen: streams share it). */
  intern(metric: string, labels: Labels): SeriesShape {
    const key = `${metric}\u0000${labelsKey(labels)}`;
    const known = this.shapes.get(key);
    if (known) return known;
    const shape: SeriesShape = Object.freeze({ metric, labels: Object.freeze({ ...labels }) });
    if (this.shapes.size < this.max) this.shapes.set(key, shape);
    return shape;
  }
}
