// One copy of each series' metric name and labels for all streams. Every agent of a fleet declares the same shapes
// (system.cpu.time {cpu: "0", state: "user"}, …) under its own host, and each stream's table kept its own decoded
// strings and label objects (estimated at about 100 bytes a series: 10 kB for a stream of 100 series). Bounded in
// bytes: past MAX_SHAPE_BYTES (hostile or very diverse labels) new shapes are not kept, only used.
import { labelsKey, type Labels } from "@vigil/shared";

export interface SeriesShape {
  readonly metric: string;
  readonly labels: Readonly<Labels>;
}

/** What the kept shapes may take; a real fleet's few thousand (families × cores, disks, interfaces, mounts) take ~1 MB. */
export const MAX_SHAPE_BYTES = 16 * 1024 * 1024;
/** A kept shape costs its key twice over (the key, and the metric and labels it spells) plus the objects and entry. */
const shapeBytes = (key: string) => 2 * 2 * key.length + 160;

export class SeriesShapes {
  private readonly shapes = new Map<string, SeriesShape>();
  private bytes = 0;

  constructor(private readonly maxBytes = MAX_SHAPE_BYTES) {}

  get size(): number {
    return this.shapes.size;
  }

  /** The shared shape equal to this one (frozen: streams share it). */
  intern(metric: string, labels: Labels): SeriesShape {
    const key = `${metric}\u0000${labelsKey(labels)}`;
    const known = this.shapes.get(key);
    if (known) return known;
    const shape: SeriesShape = Object.freeze({ metric, labels: Object.freeze({ ...labels }) });
    const cost = shapeBytes(key);
    if (this.bytes + cost <= this.maxBytes) {
      this.shapes.set(key, shape);
      this.bytes += cost;
    }
    return shape;
  }
}
