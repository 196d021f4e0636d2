// Compaction: the narrow rows of a closed hour become one block per series, and the 1-minute and 1-hour rollups of
// that hour are (re)computed from all of the hour's samples, in one transaction per group of series. The narrow rows
// are taken with DELETE … RETURNING, so exactly the rows read are removed: a late row committed meanwhile stays for
// the next run. A crash rolls the transaction back; running again finds the same rows: nothing lost, nothing doubled.
// Blocks of open days live in `fresh_blocks` (rewritten as the day fills); once a day has closed, its blocks are merged
// into one block per series and tier, written once into the tier's table (fewer rows, better compression, no dead
// space in the tier's partitions).
import { sql, type Kysely, type Transaction } from "kysely";
import { decodeRaw, decodeRollup, encodeRaw, encodeRollup, CodecError } from "../codec/index.js";
import type { Database } from "../schema.js";
import { putBlocks, takeBlocks, takeNarrow, type BlockRow } from "./block-rows.js";
import { addRollups, mergeRaw, mergeRollups, rollUp, sliceRaw, type RawPoints, type RollupPoints } from "./points.js";
import { DAY, HOUR, MINUTE, TIERS, windowEnd, type TierTable } from "./tier-spec.js";

export interface CompactionOptions {
  db: Kysely<Database>;
  /** Mantissa bits kept for non-integer values (52: exact). */
  mantissaBits: number;
  /** Makes the partitions of a tier table exist for these block start times (outside any transaction). */
  ensurePartitions(t: TierTable, startTimes: Iterable<number>): Promise<void>;
  /** Series per transaction. */
  seriesPerCommit: number;
  /** (series, window) pairs taken per run: a long backlog is worked off over several runs. */
  maxWindowsPerRun: number;
  onCorruptBlock(table: string, seriesId: number, err: CodecError): void;
}

export interface CompactionCounts {
  windows: number;
  samples: number;
  blocksWritten: number;
  blockBytesWritten: number;
  blockBytesReplaced: number;
  corruptBlocks: number;
}

export const noCounts = (): CompactionCounts => ({ windows: 0, samples: 0, blocksWritten: 0, blockBytesWritten: 0, blockBytesReplaced: 0, corruptBlocks: 0 });

/** A stored block of the series could not be decoded: its group is rolled back and the series left as it is. */
class SkipSeries extends Error {
  constructor(
    readonly table: string,
    readonly seriesId: number,
    readonly reason: CodecError,
  ) {
    super(reason.message);
  }
}

interface Work {
  id: number;
  end: number;
}

/** Compacts the narrow rows of every hour window that ended at or before `horizonMs`. */
export async function compactClosedHours(o: CompactionOptions, horizonMs: number, counts: CompactionCounts): Promise<void> {
  const work = await sql<Work>`
    SELECT series_id AS id, (ceil(extract(epoch FROM time) / 3600) * 3600000)::float8 AS end
    FROM samples WHERE time <= ${new Date(windowEnd(horizonMs - HOUR + 1, HOUR)).toISOString()}::timestamptz
    GROUP BY 1, 2 ORDER BY 2, 1 LIMIT ${o.maxWindowsPerRun}`.execute(o.db);
  for (const [end, ids] of byWindow(work.rows)) {
    // Before the transaction: making a partition locks the parent table, which the transaction holds already.
    const dayStart = windowEnd(end, DAY) - DAY;
    for (const t of [TIERS.raw, TIERS["1m"], TIERS["1h"]]) await o.ensurePartitions(t, [dayStart, end - HOUR]);
    for (let i = 0; i < ids.length; i += o.seriesPerCommit) {
      await inGroups(o, ids.slice(i, i + o.seriesPerCommit), counts, (tx, group) => compactHour(o, tx, group, end, counts));
    }
  }
}

/**
 * Moves the blocks of every day that ended at or before `horizonMs` out of `fresh_blocks`: one block per series, tier
 * and day (the hour blocks merged), written once into the tier's table.
 */
export async function mergeClosedDays(o: CompactionOptions, horizonMs: number, counts: CompactionCounts): Promise<void> {
  const closed = closedDays(horizonMs);
  for (const t of [TIERS.raw, TIERS["1m"], TIERS["1h"]]) {
    const work = await sql<Work>`
      SELECT series_id AS id, (ceil(extract(epoch FROM end_time) / 86400) * 86400000)::float8 AS end
      FROM fresh_blocks WHERE tier = ${t.tier} AND end_time <= ${new Date(closed).toISOString()}::timestamptz
      GROUP BY 1, 2 ORDER BY 2, 1 LIMIT ${o.maxWindowsPerRun}`.execute(o.db);
    for (const [end, ids] of byWindow(work.rows)) {
      await o.ensurePartitions(t, [end - DAY]);
      for (let i = 0; i < ids.length; i += o.seriesPerCommit) {
        await inGroups(o, ids.slice(i, i + o.seriesPerCommit), counts, (tx, group) => mergeDay(o, tx, t, group, end, counts));
      }
    }
  }
}

/** Days ending by this time are closed: no compaction will add an hour to them except for late samples. */
const closedDays = (horizonMs: number): number => Math.floor(horizonMs / DAY) * DAY;

function byWindow(rows: readonly Work[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const r of rows) (out.get(r.end) ?? out.set(r.end, []).get(r.end)!).push(r.id);
  return out;
}

/**
 * Runs `body` for the group in one transaction; when a stored block cannot be decoded, runs it again series by
 * series, so only the series with the bad block is left as it was (reported, tried again next run).
 */
async function inGroups(o: CompactionOptions, ids: number[], counts: CompactionCounts, body: (tx: Transaction<Database>, ids: number[]) => Promise<void>): Promise<void> {
  const attempt = async (group: number[]): Promise<boolean> => {
    try {
      await o.db.transaction().execute((tx) => body(tx, group));
      return true;
    } catch (err) {
      if (!(err instanceof SkipSeries)) throw err;
      if (group.length === 1) {
        counts.corruptBlocks++;
        o.onCorruptBlock(err.table, err.seriesId, err.reason);
      }
      return false;
    }
  };
  if (await attempt(ids)) return;
  if (ids.length > 1) for (const id of ids) await attempt([id]);
}

function decodeBlocks<T>(t: TierTable, rows: readonly BlockRow[], decode: (b: Uint8Array) => T): Map<number, { blocks: BlockRow[]; points: T[] }> {
  const out = new Map<number, { blocks: BlockRow[]; points: T[] }>();
  for (const r of rows) {
    let p: T;
    try {
      p = decode(r.data);
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      throw new SkipSeries(t.table, r.seriesId, err);
    }
    const e = out.get(r.seriesId) ?? out.set(r.seriesId, { blocks: [], points: [] }).get(r.seriesId)!;
    e.blocks.push(r);
    e.points.push(p);
  }
  return out;
}

/** The smallest window holding `(from, to]` and these blocks' windows. */
function hull(from: number, to: number, blocks: readonly BlockRow[] | undefined): [number, number] {
  let a = from;
  let b = to;
  for (const blk of blocks ?? []) {
    a = Math.min(a, blk.startMs);
    b = Math.max(b, blk.endMs);
  }
  return [a, b];
}

function rawBlock(o: CompactionOptions, id: number, [s, e]: [number, number], p: RawPoints): BlockRow {
  return { seriesId: id, startMs: s, endMs: e, n: p.times.length, data: encodeRaw(p, { mantissaBits: o.mantissaBits }) };
}
function rollupBlock(o: CompactionOptions, id: number, [s, e]: [number, number], p: RollupPoints): BlockRow {
  return { seriesId: id, startMs: s, endMs: e, n: p.times.length, data: encodeRollup(p, { mantissaBits: o.mantissaBits }) };
}

async function compactHour(o: CompactionOptions, tx: Transaction<Database>, ids: number[], end: number, counts: CompactionCounts): Promise<void> {
  const from = end - HOUR;
  const fresh = await takeNarrow(tx, ids, from, end);
  const oldRaw = decodeBlocks(TIERS.raw, await takeBlocks(tx, TIERS.raw, ids, from, end), decodeRaw);
  const old1m = decodeBlocks(TIERS["1m"], await takeBlocks(tx, TIERS["1m"], ids, from, end), decodeRollup);
  const old1h = decodeBlocks(TIERS["1h"], await takeBlocks(tx, TIERS["1h"], ids, from, end), decodeRollup);
  const dayEnd = windowEnd(end, DAY);
  const out = { raw: [] as BlockRow[], m: [] as BlockRow[], h: [] as BlockRow[] };
  let samples = 0;
  let replaced = 0;
  for (const id of ids) {
    const f = fresh.get(id);
    samples += f?.times.length ?? 0;
    const r = oldRaw.get(id);
    const m = old1m.get(id);
    const h = old1h.get(id);
    for (const b of [...(r?.blocks ?? []), ...(m?.blocks ?? []), ...(h?.blocks ?? [])]) replaced += b.data.byteLength;
    // Stored points first: at a time stored twice, the first stored value is the one kept.
    const merged = mergeRaw([...(r?.points ?? []), ...(f ? [f] : [])]);
    if (merged.times.length === 0) continue;
    out.raw.push(rawBlock(o, id, hull(from, end, r?.blocks), merged));
    const hour = sliceRaw(merged, from, end);
    // The hour's buckets are recomputed from all its samples and replace the stored ones; unless its raw samples
    // have expired already (a metric whose raw retention is shorter than the rollups'), when late samples are added.
    const rawGone = !r && f !== undefined;
    const m1 = rollUp(hour, MINUTE);
    const h1 = rollUp(hour, HOUR);
    const m1All = rawGone ? addRollups(m?.points ?? [], m1) : mergeRollups([m1, ...(m?.points ?? [])]);
    const h1All = rawGone ? addRollups(h?.points ?? [], h1) : mergeRollups([h1, ...(h?.points ?? [])]);
    if (m1All.times.length > 0) out.m.push(rollupBlock(o, id, hull(from, end, m?.blocks), m1All));
    if (h1All.times.length > 0) out.h.push(rollupBlock(o, id, hull(dayEnd - DAY, dayEnd, h?.blocks), h1All));
  }
  // Into fresh_blocks even for a closed day (a backlog, late samples): the day merge of this same run moves them.
  await write(tx, TIERS.raw, out.raw, "fresh", counts);
  await write(tx, TIERS["1m"], out.m, "fresh", counts);
  await write(tx, TIERS["1h"], out.h, "fresh", counts);
  counts.windows += ids.length;
  counts.samples += samples;
  counts.blockBytesReplaced += replaced;
}

async function mergeDay(o: CompactionOptions, tx: Transaction<Database>, t: TierTable, ids: number[], end: number, counts: CompactionCounts): Promise<void> {
  const from = end - DAY;
  const rows = await takeBlocks(tx, t, ids, from, end);
  const out: BlockRow[] = [];
  if (t.tier === "raw") {
    for (const [id, { blocks, points }] of decodeBlocks(t, rows, decodeRaw)) out.push(rawBlock(o, id, hull(from, end, blocks), mergeRaw(points)));
  } else {
    for (const [id, { blocks, points }] of decodeBlocks(t, rows, decodeRollup)) out.push(rollupBlock(o, id, hull(from, end, blocks), mergeRollups(points)));
  }
  counts.blockBytesReplaced += rows.reduce((n, r) => n + r.data.byteLength, 0);
  await write(tx, t, out, "tier", counts);
}

async function write(tx: Transaction<Database>, t: TierTable, rows: BlockRow[], into: "fresh" | "tier", counts: CompactionCounts): Promise<void> {
  if (rows.length === 0) return;
  await putBlocks(tx, t, rows, into);
  counts.blocksWritten += rows.length;
  counts.blockBytesWritten += rows.reduce((n, r) => n + r.data.byteLength, 0);
}
