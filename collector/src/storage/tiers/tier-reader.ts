// Range answers across tiers. A query is answered from the coarsest tier whose resolution divides its step (1 h, 1 m,
// else raw), preferring one whose retention reaches back to the range's start. A rollup answers every point whose
// window holds no narrow (not yet compacted) sample; a point whose window does, the recent hours and any late
// samples, is computed from the raw tier instead (blocks and narrow rows): recent raw stitched to older rollups, and
// late data visible at once, both exact.
import type { Clock } from "@vigil/shared";
import type { Kysely, Transaction } from "kysely";
import type { RangeRead, RangeSeries, SelectedSeries } from "../../api/ports.js";
import { CodecError, decodeRaw, decodeRollup } from "../codec/index.js";
import { planChunks, type Window } from "../range-reader.js";
import type { Database } from "../schema.js";
import { readWithin } from "../timed-read.js";
import { readBlocks, readNarrow, type BlockRow } from "./block-rows.js";
import { mergeRaw, sliceRaw, sliceRollup, type RawPoints, type RollupPoints } from "./points.js";
import { retentionFor, type RetentionSettings } from "./retention.js";
import { StepPoints } from "./step-points.js";
import { TIERS, type TierName } from "./tier-spec.js";

export interface TierReaderOptions {
  db: Kysely<Database>;
  clock: Clock;
  retention: RetentionSettings;
  onCorruptBlock(table: string, seriesId: number, err: CodecError): void;
}

/** The tier that answers a metric's range query. */
export function chooseTier(retention: RetentionSettings, metric: string, r: Pick<RangeRead, "startMs" | "stepMs">, nowMs: number): TierName {
  const fitting = (["1h", "1m"] as const).filter((t) => r.stepMs % TIERS[t].resolutionMs === 0);
  const covering = fitting.find((t) => nowMs - retentionFor(retention, metric, t) <= r.startMs - r.stepMs);
  return covering ?? fitting[0] ?? "raw";
}

/** What a range read costs, in stored points read: for the planner and the API's bound. */
export function tierSpacing(tier: TierName, s: SelectedSeries): number {
  return tier === "raw" ? s.intervalMs : TIERS[tier].resolutionMs;
}

export class TierReader {
  constructor(private readonly o: TierReaderOptions) {}

  async *readRange(series: readonly SelectedSeries[], r: RangeRead): AsyncGenerator<RangeSeries> {
    if (series.length === 0) return;
    const tier = chooseTier(this.o.retention, series[0]!.metric, r, this.o.clock.now());
    for (const chunk of planChunks(series, r, (s) => tierSpacing(tier, s))) {
      const acc = new Map(chunk.series.map((s) => [s.id, new StepPoints(r.startMs, r.endMs, r.stepMs)]));
      // One transaction a window (its reads share the deadline): a few round trips fewer per chart than one each.
      for (const w of chunk.windows) await this.read(r, (db) => this.readWindow(db, tier, chunk.series, w, r, acc));
      for (const s of chunk.series) {
        const json = acc.get(s.id)!.json(r.agg);
        if (json !== null) yield { metric: s.metric, labels: s.labels, pointsJson: json };
      }
    }
  }

  private read<T>(r: RangeRead, fn: (db: Transaction<Database>) => Promise<T>): Promise<T> {
    return readWithin(this.o.db, this.o.clock, r.deadlineMs, (trx) => fn(trx));
  }

  private async readWindow(db: Transaction<Database>, tier: TierName, series: readonly SelectedSeries[], w: Window, r: RangeRead, acc: Map<number, StepPoints>): Promise<void> {
    const ids = series.map((s) => s.id);
    const narrow = await readNarrow(db, ids, w.fromMs, w.toMs);
    if (tier === "raw") {
      const blocks = this.decodeRaw(await readBlocks(db, TIERS.raw, ids, w.fromMs, w.toMs));
      for (const id of ids) acc.get(id)!.addRaw(sliceRaw(mergeRaw([...(blocks.get(id) ?? []), ...optional(narrow.get(id))]), w.fromMs, w.toMs));
      return;
    }
    const rollups = this.decodeRollups(TIERS[tier].table, await readBlocks(db, TIERS[tier], ids, w.fromMs, w.toMs));
    for (const id of ids) for (const p of rollups.get(id) ?? []) acc.get(id)!.addRollup(sliceRollup(p, w.fromMs, w.toMs));
    // Points whose window holds narrow samples: recomputed whole from the raw tier.
    const touched = new Map<number, Set<number>>();
    let lo = Infinity;
    let hi = -Infinity;
    for (const id of ids) {
      const times = narrow.get(id)?.times;
      if (!times || times.length === 0) continue;
      const out = acc.get(id)!;
      const ks = new Set<number>();
      for (const t of times) {
        const k = out.indexOf(t);
        if (k < 0) continue;
        ks.add(k);
        lo = Math.min(lo, k);
        hi = Math.max(hi, k);
      }
      if (ks.size > 0) touched.set(id, ks);
    }
    if (touched.size === 0) return;
    // Only the raw blocks under those points are read: usually the last hour or two, not the range.
    const any = acc.get(ids[0]!)!;
    const from = Math.max(w.fromMs, any.first + (lo - 1) * r.stepMs);
    const to = Math.min(w.toMs, any.first + hi * r.stepMs);
    const late = [...touched.keys()];
    const blocks = this.decodeRaw(await readBlocks(db, TIERS.raw, late, from, to));
    for (const id of late) {
      const fromRaw = new StepPoints(r.startMs, r.endMs, r.stepMs);
      fromRaw.addRaw(sliceRaw(mergeRaw([...(blocks.get(id) ?? []), narrow.get(id)!]), from, to));
      for (const k of touched.get(id)!) acc.get(id)!.copyPoint(fromRaw, k);
    }
  }

  private decodeRaw(rows: readonly BlockRow[]): Map<number, RawPoints[]> {
    return this.decode(TIERS.raw.table, rows, decodeRaw);
  }

  private decodeRollups(table: string, rows: readonly BlockRow[]): Map<number, RollupPoints[]> {
    return this.decode(table, rows, decodeRollup);
  }

  /** A block that cannot be decoded is left out of the answer and reported, never failing the query. */
  private decode<T>(table: string, rows: readonly BlockRow[], decode: (b: Uint8Array) => T): Map<number, T[]> {
    const out = new Map<number, T[]>();
    for (const row of rows) {
      try {
        const p = decode(row.data);
        (out.get(row.seriesId) ?? out.set(row.seriesId, []).get(row.seriesId)!).push(p);
      } catch (err) {
        if (!(err instanceof CodecError)) throw err;
        this.o.onCorruptBlock(table, row.seriesId, err);
      }
    }
    return out;
  }
}

const optional = <T>(x: T | undefined): T[] => (x === undefined ? [] : [x]);
