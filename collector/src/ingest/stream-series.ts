import { labelsKey, type Labels } from "@vigil/shared";
import type { Batch, SeriesDecl } from "@vigil/proto";
import { CollectorError, CollectorErrors } from "../errors.js";
import { IngestRefusal } from "./refusal.js";
import type { SeriesShapes } from "./series-shapes.js";

export interface StreamSeries {
  id: number;
  /** Shared by every stream declaring the same series shape (series-shapes.ts). */
  metric: string;
  labels: Readonly<Labels>;
  /** The batch (stream-local number) that last used this series, and under which ref: finds duplicates in a batch. */
  usedIn: number;
  usedAs: number;
}

export interface StreamPoints {
  series: StreamSeries[];
  values: number[];
  /** Points dropped because their value was NaN or ±Infinity. */
  nonFinite: number;
}

const sameSeries = (s: StreamSeries, d: SeriesDecl) => s.metric === d.metric && labelsKey(s.labels) === labelsKey(d.labels);

/** The series one stream has declared (ref → series), bounded by ingest.max_series_per_stream. */
export class StreamSeriesTable {
  private readonly byRef = new Map<number, StreamSeries>();
  private batchNo = 0;

  constructor(
    private readonly maxSeries: number,
    private readonly shapes: SeriesShapes,
  ) {}

  /**
   * The declarations of a (validated) batch that are new on this stream. Re-declaring a ref as the same series is
   * harmless; as another series it is refused, as is going past the stream's bound.
   */
  newDeclarations(b: Batch): SeriesDecl[] {
    const fresh: SeriesDecl[] = [];
    b.declare.forEach((d, i) => {
      const cur = this.byRef.get(d.ref);
      if (!cur) fresh.push(d);
      else if (!sameSeries(cur, d)) throw new IngestRefusal("ref", `batch seq ${b.seq}: declare[${i}].ref: ref ${d.ref} is already declared on this stream as another series`);
    });
    const total = this.byRef.size + fresh.length;
    if (total > this.maxSeries) {
      throw new IngestRefusal(
        "series_per_stream",
        `batch seq ${b.seq}: declare: this stream would have ${total} series (limit ingest.max_series_per_stream = ${this.maxSeries})`,
        CollectorErrors.INGEST_LIMIT,
      );
    }
    return fresh;
  }

  /**
   * Before anything of the batch is stored: every ref is declared (on the stream or by this batch) and none is used
   * twice. Whether two refs are one series is known only once they are resolved (`points`).
   */
  checkRefs(b: Batch, fresh: readonly SeriesDecl[]): void {
    const batch = ++this.batchNo;
    const freshUse = fresh.length > 0 ? new Map(fresh.map((d) => [d.ref, 0])) : undefined;
    for (let i = 0; i < b.refs.length; i++) {
      const ref = b.refs[i]!;
      const s = this.byRef.get(ref);
      let dup: boolean;
      if (s) {
        dup = s.usedIn === batch && s.usedAs === ref;
        s.usedIn = batch;
        s.usedAs = ref;
      } else if (freshUse?.has(ref)) {
        dup = freshUse.get(ref) === batch;
        freshUse.set(ref, batch);
      } else {
        throw new CollectorError(CollectorErrors.PROTOCOL, `batch seq ${b.seq}: series ref ${ref} was never declared on this stream`);
      }
      if (dup) throw new IngestRefusal("ref", `batch seq ${b.seq}: refs[${i}]: ref ${ref} appears twice`);
    }
  }

  bind(decls: readonly SeriesDecl[], ids: readonly number[]): void {
    // Two refs that resolve to one series share the object, so a batch using both is caught as a duplicate point.
    // Found through a map built per declaring batch (rare: a stream's first batches), not kept per stream.
    const byId = new Map<number, StreamSeries>();
    for (const s of this.byRef.values()) byId.set(s.id, s);
    decls.forEach((d, i) => {
      const id = ids[i]!;
      let s = byId.get(id);
      if (!s) {
        const shape = this.shapes.intern(d.metric, d.labels);
        s = { id, metric: shape.metric, labels: shape.labels, usedIn: 0, usedAs: 0 };
        byId.set(id, s);
      }
      this.byRef.set(d.ref, s);
    });
  }

  /** The batch's points by series: every ref declared, no series twice; NaN and ±Inf dropped (counted). */
  points(b: Batch): StreamPoints {
    const batch = ++this.batchNo;
    const series: StreamSeries[] = [];
    const values: number[] = [];
    let nonFinite = 0;
    for (let i = 0; i < b.refs.length; i++) {
      const ref = b.refs[i]!;
      const s = this.byRef.get(ref);
      if (!s) throw new CollectorError(CollectorErrors.PROTOCOL, `batch seq ${b.seq}: series ref ${ref} was never declared on this stream`);
      if (s.usedIn === batch) {
        const what = s.usedAs === ref ? `ref ${ref} appears twice` : `ref ${ref} is the same series as ref ${s.usedAs}`;
        throw new IngestRefusal("ref", `batch seq ${b.seq}: refs[${i}]: ${what}`);
      }
      s.usedIn = batch;
      s.usedAs = ref;
      const v = b.values[i]!;
      if (!Number.isFinite(v)) {
        nonFinite++;
        continue;
      }
      series.push(s);
      values.push(v);
    }
    return { series, values, nonFinite };
  }
}
