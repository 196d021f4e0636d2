// Block codec benchmark: one synthetic day of a Linux host (92 series at 10 s, 8,640 points each; bench/codec-host.ts)
// encoded as day blocks (8,640 points) and hour blocks (360) for several mantissaBits, plus the network and disk
// counters as the per-second rates the agent really sends, and 1-minute rollups. Prints one JSON line per phase;
// the last line is the summary. Pure CPU, no database.
//
//   node --import tsx bench/codec.ts [--reps 7]
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { decodeRaw, decodeRollup, encodeRaw, encodeRollup, type RollupPoints } from "../collector/src/storage/codec/index.js";
import { DAY_POINTS, syntheticHost, toRates, type SyntheticSeries } from "./codec-host.js";

const BITS = [52, 32, 24, 20, 16];
const BLOCKS = { day: DAY_POINTS, hour: 360 };
/** Postgres row cost of one block (tuple header, series id, window start, bytea length word, index entry), roughly. */
const ROW_OVERHEAD = 100;
/** "Well under ~1.6 B/sample": the recommended default is the most bits whose day blocks stay at or below this. */
const RECOMMEND_AT_MOST = 1.2;
const ROLLUP_POINTS = 6;

const { values: args } = parseArgs({ options: { reps: { type: "string", default: "7" } } });
const REPS = Number(args.reps);
if (!Number.isInteger(REPS) || REPS < 1) throw new Error(`--reps: expected a positive integer, got ${args.reps}`);

const emit = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Block {
  category: string;
  times: Float64Array;
  values: Float64Array;
}

function blocks(host: SyntheticSeries[], size: number): Block[] {
  const out: Block[] = [];
  for (const s of host) {
    for (let o = 0; o < s.times.length; o += size) out.push({ category: s.category, times: s.times.subarray(o, o + size), values: s.values.subarray(o, o + size) });
  }
  return out;
}

/** Per block, the median over `REPS` runs of `f` (after one warm-up run), in µs. */
function timeEach<T>(items: T[], f: (x: T) => unknown): number[] {
  const runs = items.map(() => [] as number[]);
  for (let rep = -1; rep < REPS; rep++) {
    items.forEach((x, i) => {
      const t0 = performance.now();
      f(x);
      if (rep >= 0) runs[i]!.push((performance.now() - t0) * 1000);
    });
  }
  return runs.map(median);
}

/** Fails the benchmark if a decoded block is not what the codec promises: times exact, values within the bound. */
function check(b: Block, decoded: { times: Float64Array; values: Float64Array }, bits: number): void {
  const tol = bits >= 52 ? 0 : 2 ** -(bits + 1);
  for (let i = 0; i < b.times.length; i++) {
    const [v, d] = [b.values[i]!, decoded.values[i]!];
    if (decoded.times[i] !== b.times[i] || !(Math.abs(d - v) <= Math.abs(v) * tol)) throw new Error(`${b.category} point ${i}: ${v} came back as ${d}`);
  }
}

function measureRaw(phase: string, host: SyntheticSeries[], bits: number, block: keyof typeof BLOCKS) {
  const bs = blocks(host, BLOCKS[block]);
  const encoded = bs.map((b) => encodeRaw(b, { mantissaBits: bits }));
  bs.forEach((b, i) => check(b, decodeRaw(encoded[i]!), bits));
  const enc = timeEach(bs, (b) => encodeRaw(b, { mantissaBits: bits }));
  const dec = timeEach(encoded, decodeRaw);
  const samples = bs.reduce((n, b) => n + b.times.length, 0);
  const bytes = encoded.reduce((n, e) => n + e.length, 0);
  const byCategory: Record<string, number> = {};
  const perCat = new Map<string, [number, number]>();
  bs.forEach((b, i) => {
    const c = perCat.get(b.category) ?? [0, 0];
    perCat.set(b.category, [c[0] + encoded[i]!.length, c[1] + b.times.length]);
  });
  for (const [k, [by, n]] of perCat) byCategory[k] = round(by / n, 3);
  const line = {
    phase,
    mantissaBits: bits,
    block,
    pointsPerBlock: BLOCKS[block],
    series: host.length,
    blocks: bs.length,
    samples,
    bytes,
    bytesPerSample: round(bytes / samples, 4),
    bytesPerSampleWithRows: round((bytes + ROW_OVERHEAD * bs.length) / samples, 4),
    encodeUsPerBlock: round(enc.reduce((a, b) => a + b, 0) / enc.length, 1),
    encodeUsWorstBlock: round(Math.max(...enc), 1),
    decodeUsPerBlock: round(dec.reduce((a, b) => a + b, 0) / dec.length, 1),
    decodeUsWorstBlock: round(Math.max(...dec), 1),
    bytesPerSampleByCategory: byCategory,
  };
  emit(line);
  return line;
}

/** 1-minute rollups of a day: min, max, sum, count and last of each 6 raw points. */
function rollup(s: SyntheticSeries): RollupPoints {
  const m = Math.ceil(s.times.length / ROLLUP_POINTS);
  const r = { times: new Float64Array(m), min: new Float64Array(m), max: new Float64Array(m), sum: new Float64Array(m), count: new Float64Array(m), last: new Float64Array(m) };
  for (let j = 0; j < m; j++) {
    const vs = s.values.subarray(j * ROLLUP_POINTS, (j + 1) * ROLLUP_POINTS);
    r.times[j] = s.times[j * ROLLUP_POINTS]! - (s.times[j * ROLLUP_POINTS]! % 60_000);
    r.min[j] = Math.min(...vs);
    r.max[j] = Math.max(...vs);
    r.sum[j] = vs.reduce((a, b) => a + b, 0);
    r.count[j] = vs.length;
    r.last[j] = vs[vs.length - 1]!;
  }
  return r;
}

function measureRollups(host: SyntheticSeries[], bits: number) {
  const rs = host.map(rollup);
  const encoded = rs.map((r) => encodeRollup(r, { mantissaBits: bits }));
  encoded.forEach((e, i) => {
    if (decodeRollup(e).count.some((c, j) => c !== rs[i]!.count[j])) throw new Error("rollup counts changed");
  });
  const enc = timeEach(rs, (r) => encodeRollup(r, { mantissaBits: bits }));
  const dec = timeEach(encoded, decodeRollup);
  const buckets = rs.reduce((n, r) => n + r.times.length, 0);
  const bytes = encoded.reduce((n, e) => n + e.length, 0);
  emit({
    phase: "rollup-1m",
    mantissaBits: bits,
    block: "day",
    bucketsPerBlock: rs[0]!.times.length,
    blocks: rs.length,
    bytes,
    bytesPerBucket: round(bytes / buckets, 4),
    encodeUsPerBlock: round(enc.reduce((a, b) => a + b, 0) / enc.length, 1),
    decodeUsPerBlock: round(dec.reduce((a, b) => a + b, 0) / dec.length, 1),
  });
  return round(bytes / buckets, 4);
}

const host = syntheticHost();
const results = BITS.flatMap((bits) => (["day", "hour"] as const).map((block) => measureRaw("raw", host, bits, block)));
const rates = measureRaw("raw-agent-rates", toRates(host), 52, "day");
const rollupBytes = Object.fromEntries(BITS.map((bits) => [bits, measureRollups(host, bits)]));

const day = (bits: number) => results.find((r) => r.block === "day" && r.mantissaBits === bits)!;
const recommended = Math.max(...BITS.filter((bits) => day(bits).bytesPerSample <= RECOMMEND_AT_MOST));
emit({
  phase: "summary",
  node: process.version,
  reps: REPS,
  dayBytesPerSample: Object.fromEntries(BITS.map((b) => [b, day(b).bytesPerSample])),
  hourBytesPerSample: Object.fromEntries(BITS.map((b) => [b, results.find((r) => r.block === "hour" && r.mantissaBits === b)!.bytesPerSample])),
  dayBytesPerSampleWithRows: Object.fromEntries(BITS.map((b) => [b, day(b).bytesPerSampleWithRows])),
  agentRatesDayBytesPerSample: rates.bytesPerSample,
  rollup1mDayBytesPerBucket: rollupBytes,
  dayDecodeUsPerBlock: day(52).decodeUsPerBlock,
  dayDecodeUsWorstBlock: day(52).decodeUsWorstBlock,
  dayEncodeUsPerBlock: day(52).encodeUsPerBlock,
  dayEncodeUsWorstBlock: day(52).encodeUsWorstBlock,
  recommendedMantissaBits: Number.isFinite(recommended) ? recommended : undefined,
  recommendRule: `most bits with day blocks ≤ ${RECOMMEND_AT_MOST} B/sample`,
});
