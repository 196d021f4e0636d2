// SQL for blocks and for the narrow rows compaction takes. Points cross the wire packed (float8send into one bytea per
// series): a day of one series is one value, not 8,640 row objects.
import { sql, type Kysely, type Transaction } from "kysely";
import type { Database } from "../schema.js";
import type { TierTable } from "./tier-spec.js";
import type { RawPoints } from "./points.js";

type Db = Kysely<Database> | Transaction<Database>;

export interface BlockRow {
  seriesId: number;
  startMs: number;
  endMs: number;
  n: number;
  data: Uint8Array;
}

const iso = (ms: number) => new Date(ms).toISOString();

interface RawBlockRow {
  series_id: number;
  s: number;
  e: number;
  n: number;
  data: Uint8Array;
}
const toBlock = (r: RawBlockRow): BlockRow => ({ seriesId: r.series_id, startMs: r.s, endMs: r.e, n: r.n, data: r.data });

/**
 * The blocks of these series whose window overlaps `(fromMs, toMs]`, in series then time order: from the tier's
 * table (closed days) and from `fresh_blocks` (days still open).
 */
export async function readBlocks(db: Db, t: TierTable, ids: readonly number[], fromMs: number, toMs: number): Promise<BlockRow[]> {
  if (ids.length === 0) return [];
  const r = await sql<RawBlockRow>`
    SELECT * FROM (
      SELECT ${COLUMNS} FROM ${sql.table(t.table)} WHERE ${overlaps(ids, fromMs, toMs)}
      UNION ALL
      SELECT ${COLUMNS} FROM fresh_blocks WHERE tier = ${t.tier} AND ${overlaps(ids, fromMs, toMs)}
    ) b ORDER BY series_id, s`.execute(db);
  return r.rows.map(toBlock);
}

const COLUMNS = sql`series_id, (extract(epoch FROM start_time) * 1000)::float8 AS s, (extract(epoch FROM end_time) * 1000)::float8 AS e, n, data`;

/** No block is longer than a day: the start bound lets a read look in the right partitions only. */
const DAY_SPAN = 86_400_000;

function overlaps(ids: readonly number[], fromMs: number, toMs: number) {
  return sql`series_id = ANY(${ids}::bigint[]) AND start_time < ${iso(toMs)}::timestamptz AND end_time > ${iso(fromMs)}::timestamptz
    AND start_time > ${iso(fromMs - DAY_SPAN)}::timestamptz`;
}

/** Deletes and returns the blocks of these series overlapping `(fromMs, toMs]` (to be merged and written again). */
export async function takeBlocks(tx: Transaction<Database>, t: TierTable, ids: readonly number[], fromMs: number, toMs: number): Promise<BlockRow[]> {
  if (ids.length === 0) return [];
  const closed = await sql<RawBlockRow>`DELETE FROM ${sql.table(t.table)} WHERE ${overlaps(ids, fromMs, toMs)} RETURNING ${COLUMNS}`.execute(tx);
  const open = await sql<RawBlockRow>`DELETE FROM fresh_blocks WHERE tier = ${t.tier} AND ${overlaps(ids, fromMs, toMs)} RETURNING ${COLUMNS}`.execute(tx);
  return [...closed.rows, ...open.rows].map(toBlock).sort((a, b) => a.seriesId - b.seriesId || a.startMs - b.startMs);
}

/**
 * Writes blocks: to `fresh_blocks` while they may still change (compaction of an hour), to the tier's table once
 * their day has closed and they are final (the day merge), so each day's blocks land in the tier's partition once.
 */
export async function putBlocks(tx: Transaction<Database>, t: TierTable, rows: readonly BlockRow[], into: "fresh" | "tier"): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    const part = rows.slice(i, i + 1000);
    if (into === "tier") await sql`INSERT INTO ${sql.table(t.table)} (series_id, start_time, end_time, n, data) ${unnestRows(part)}`.execute(tx);
    else await sql`INSERT INTO fresh_blocks (tier, series_id, start_time, end_time, n, data) SELECT ${t.tier}, b.* FROM (${unnestRows(part)}) b`.execute(tx);
  }
}

function unnestRows(part: readonly BlockRow[]) {
  return sql`SELECT * FROM unnest(${part.map((r) => r.seriesId)}::bigint[], ${part.map((r) => iso(r.startMs))}::timestamptz[],
    ${part.map((r) => iso(r.endMs))}::timestamptz[], ${part.map((r) => r.n)}::int[], ${part.map((r) => Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength))}::bytea[])`;
}

/** Unpacks `float8send(t) || float8send(v)` pairs. */
function unpack(packed: Uint8Array): RawPoints {
  const n = packed.byteLength / 16;
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const times = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    times[i] = view.getFloat64(i * 16);
    values[i] = view.getFloat64(i * 16 + 8);
  }
  return { times, values };
}

const PACKED = sql`string_agg(float8send(round(extract(epoch FROM x.time) * 1000)::float8) || float8send(x.value), ''::bytea ORDER BY x.time)`;

/** Narrow (not yet compacted) samples of these series in `(fromMs, toMs]`, per series. */
export async function readNarrow(db: Db, ids: readonly number[], fromMs: number, toMs: number): Promise<Map<number, RawPoints>> {
  if (ids.length === 0) return new Map();
  const r = await sql<{ id: number; packed: Uint8Array }>`
    SELECT x.series_id AS id, ${PACKED} AS packed FROM samples x
    WHERE x.series_id = ANY(${ids}::bigint[]) AND x.time > ${iso(fromMs)}::timestamptz AND x.time <= ${iso(toMs)}::timestamptz
    GROUP BY x.series_id`.execute(db);
  return new Map(r.rows.map((row) => [row.id, unpack(row.packed)]));
}

/** Deletes and returns the narrow samples of these series in `(fromMs, toMs]`: exactly the rows this commit removes. */
export async function takeNarrow(tx: Transaction<Database>, ids: readonly number[], fromMs: number, toMs: number): Promise<Map<number, RawPoints>> {
  const r = await sql<{ id: number; packed: Uint8Array }>`
    WITH x AS (
      DELETE FROM samples WHERE series_id = ANY(${ids}::bigint[]) AND time > ${iso(fromMs)}::timestamptz AND time <= ${iso(toMs)}::timestamptz
      RETURNING series_id, time, value)
    SELECT x.series_id AS id, ${PACKED} AS packed FROM x GROUP BY x.series_id`.execute(tx);
  return new Map(r.rows.map((row) => [row.id, unpack(row.packed)]));
}
