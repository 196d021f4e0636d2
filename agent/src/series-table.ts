import { labelsKey, type Labels } from "@vigil/shared";

export interface SeriesDef {
  metric: string;
  labels: Labels;
}

/** Gives each series a small integer ref for the life of the process; streams declare refs before use. */
export class SeriesTable {
  private readonly refs = new Map<string, number>();
  private readonly defs: SeriesDef[] = [];

  ref(metric: string, labels: Labels): number {
    const key = `${metric}\u0002${labelsKey(labels)}`;
    let ref = this.refs.get(key);
    if (ref === undefined) {
      ref = this.defs.length;
      this.defs.push({ metric, labels });
      this.refs.set(key, ref);
    }
    return ref;
  }

  def(ref: number): SeriesDef {
    const d = this.defs[ref];
    if (!d) throw new Error(`unknown series ref ${ref}`);
    return d;
  }

  get size(): number {
    return this.defs.length;
  }
}
