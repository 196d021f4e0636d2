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

interface CachedRef {
  metric: string;
  /** The label names and values of the sample it was looked up for, in enumeration order. */
  names: string[];
  values: string[];
  ref: number;
}

/**
 * Refs for one source's samples, tick after tick. A source emits the same series in the same order on most ticks, so
 * each sample is first compared with what was at its position last tick (no allocation) and looked up in the table,
 * which builds a key string per sample, only when it differs. Entries are snapshots, so a caller that reuses and
 * mutates its sample objects still gets correct refs. Labels are plain objects, as everywhere else.
 */
export class SeriesRefCache {
  private readonly entries: CachedRef[] = [];

  constructor(private readonly table: SeriesTable) {}

  /** Appends the ref of each sample, in order, to `out`. */
  resolve(samples: readonly SeriesDef[], out: number[]): void {
    const entries = this.entries;
    for (let i = 0; i < samples.length; i++) {
      const { metric, labels } = samples[i]!;
      let e = entries[i];
      if (e === undefined || !matches(e, metric, labels)) {
        e = { metric, names: [], values: [], ref: this.table.ref(metric, labels) };
        for (const k in labels) {
          e.names.push(k);
          e.values.push(labels[k]!);
        }
        entries[i] = e;
      }
      out.push(e.ref);
    }
    if (entries.length > samples.length) entries.length = samples.length;
  }
}

function matches(e: CachedRef, metric: string, labels: Labels): boolean {
  if (e.metric !== metric) return false;
  let n = 0;
  for (const k in labels) {
    if (e.names[n] !== k || e.values[n] !== labels[k]) return false;
    n++;
  }
  return n === e.names.length;
}
