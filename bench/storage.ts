// Storage tiers benchmark. Hosts replaying the agent recorded on this machine (bench/fixtures/agent-series.json, see
// bench/storage-replay.ts) at 10 s are written as narrow rows with the collector's own insert, then compacted by the
// collector's maintenance (in-process). Two phases, each on a fresh database (dropped at the end, also on failure and
// Ctrl-C):
// - compression: --hosts × every recorded series × --days closed days (day blocks, as every day but today is kept):
//   bytes a sample as narrow rows and compacted (everything the partitions take: heap, TOAST, indexes), maintenance
//   throughput, rollup bytes a bucket;
// - queries: --query-hosts × one gauge (total CPU idle) × --query-days up to now. The reference is the pre-tiers range
//   reader (bench/storage-reference.ts) on the narrow table; then maintenance runs (raw past 15 days expires, as
//   configured by default), the built collector starts on the database and the same queries go through its HTTP API.
// Prints one JSON line per phase; the last line is the summary. Medians of --reps runs after one warm-up.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test pnpm bench:storage [--hosts 10] [--days 1] [--query-hosts 100]
//     [--query-days 30] [--reps 5]        (env: BENCH_HOSTS, BENCH_DAYS, BENCH_QUERY_HOSTS, BENCH_QUERY_DAYS, BENCH_REPS)
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { sql, type Kysely } from "kysely";
import { createLogger } from "@vigil/shared";
import { openDatabase, type OpenDatabase } from "../collector/src/storage/database.js";
import { migrate } from "../collector/src/storage/migrator.js";
import { PartitionManager } from "../collector/src/storage/partitions.js";
import type { Database } from "../collector/src/storage/schema.js";
import { TierMaintenance } from "../collector/src/storage/tiers/maintenance.js";
import { createTestDatabase, type TestDatabase } from "../test/support/postgres.js";
import { startCollector, type CollectorProc } from "../test/support/processes.js";
import { cpuMeter, createHosts, DAY_MS, perPoint, tableBytes, TICK_MS, writeTicks } from "./storage-load.js";
import { referenceRead } from "./storage-reference.js";
import { loadFixture, ReplayHost } from "./storage-replay.js";

const TARGETS = { bytes_per_sample_compacted: 2, query_30d_1series_ms: 50, query_24h_1series_ms: 20 };
const HOUR_MS = 3_600_000;
const QUERY_METRIC = { metric: "system.cpu.utilization", labels: { state: "idle" } };

const DEFAULTS = { hosts: 10, days: 1, "query-hosts": 100, "query-days": 30, reps: 5 };
type Options = Record<keyof typeof DEFAULTS, number>;
function options(): Options {
  const str = { type: "string" } as const;
  const { values } = parseArgs({ options: Object.fromEntries(Object.keys(DEFAULTS).map((k) => [k, str])) });
  const out = {} as Options;
  for (const k of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    const env = `BENCH_${k.toUpperCase().replace("-", "_")}`;
    const raw = (values[k] as string | undefined) ?? process.env[env] ?? String(DEFAULTS[k]);
    const n = Number(raw.replaceAll("_", ""));
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${k} / ${env}: expected a positive integer, got ${JSON.stringify(raw)}`);
    out[k] = n;
  }
  return out;
}

const emit = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
process.stdout.on("error", () => {}); // a closed pipe (| head) must not skip the cleanup that drops the databases
const round = (x: number, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const silent = createLogger("bench", "silent");

/** The API's default step (collector/src/api/routes-metrics.ts): about 250 points, whole minutes or hours. */
function defaultStep(rangeMs: number): number {
  const raw = Math.max(1000, Math.ceil(rangeMs / 250 / 1000) * 1000);
  for (const unit of [HOUR_MS, 60_000]) if (raw >= unit) return Math.ceil(raw / unit) * unit;
  return raw;
}

/** A query slower than this once is timed once: the old reader takes minutes over 100 hosts' 30 days. */
const SLOW_MS = 10_000;

/**
 * Median ms of `reps` runs of `f` after one warm-up run, and how many runs it is over (1: the warm-up alone, when it
 * took more than SLOW_MS); `check` sees each result.
 */
async function timed<T>(reps: number, f: () => Promise<T>, check: (x: T) => void): Promise<{ ms: number; runs: number }> {
  const w0 = performance.now();
  check(await f());
  const warm = performance.now() - w0;
  if (warm > SLOW_MS) return { ms: round(warm, 1), runs: 1 };
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const x = await f();
    ms.push(performance.now() - t0);
    check(x);
  }
  return { ms: round(median(ms), 1), runs: reps };
}

function maintenance(db: Kysely<Database>): TierMaintenance {
  const keep = { raw: 15 * DAY_MS, "1m": 90 * DAY_MS, "1h": 730 * DAY_MS };
  return new TierMaintenance(db, "postgres", new PartitionManager(db, false), { retention: { keep, overrides: [] }, compactAfterMs: HOUR_MS, mantissaBits: 52 }, silent);
}

/** Runs maintenance at `nowMs` until a run compacts nothing more (one run takes at most 200,000 windows). */
async function runMaintenance(db: Kysely<Database>, nowMs: number) {
  const m = maintenance(db);
  const cpu = cpuMeter();
  const t0 = performance.now();
  let [runs, samples, blocks, dropped] = [0, 0, 0, 0];
  for (;;) {
    const r = await m.run(nowMs);
    runs++;
    samples += r.compactedSamples;
    blocks += r.blocksWritten;
    dropped += r.droppedPartitions.length;
    if (r.compactedSamples === 0 || runs === 20) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { runs, compacted_samples: samples, blocks_written: blocks, dropped_partitions: dropped, seconds: round(seconds, 2), compact_samples_per_s: round(samples / seconds), cpu_s: cpu() };
}

async function load(db: Kysely<Database>, firstMs: number, ticks: number, hosts: ReplayHost[], ids: number[][], pick: readonly number[]) {
  const cpu = cpuMeter();
  const t0 = performance.now();
  const rows = await writeTicks(db, firstMs, ticks, (_t, put) => {
    hosts.forEach((h, i) => {
      const v = h.tick();
      pick.forEach((s, j) => put(ids[i]![j]!, v[s]!));
    });
  });
  const seconds = (performance.now() - t0) / 1000;
  await sql`VACUUM (ANALYZE) samples`.execute(db); // what autovacuum does to a day of rows once they are written
  return { rows, seconds: round(seconds, 1), rows_per_s: round(rows / seconds), cpu_s: cpu() };
}

async function compressionPhase(o: Options, store: OpenDatabase) {
  const f = loadFixture();
  const db = store.db;
  const ids = await createHosts(db, "bench-c-", o.hosts, f.series);
  // Closed UTC days ending at least 2 h ago: compacted and merged into day blocks, as every stored day but today is.
  const endMs = Math.floor((Date.now() - 2 * HOUR_MS) / DAY_MS) * DAY_MS;
  const ticks = (o.days * DAY_MS) / TICK_MS;
  const hosts = Array.from({ length: o.hosts }, (_, i) => new ReplayHost(f, 1000 + i));
  const loaded = await load(db, endMs - ticks * TICK_MS + TICK_MS, ticks, hosts, ids, f.series.map((_, i) => i));
  const raw = await tableBytes(db, "samples");
  emit({ phase: "compression-load", hosts: o.hosts, series_per_host: f.series.length, days: o.days, ...loaded, raw_bytes: raw.total, raw_index_bytes: raw.indexes, bytes_per_sample_raw_row: round(perPoint(raw), 2) });
  const m = await runMaintenance(db, Date.now());
  const asLeft = await tableBytes(db, "sample_blocks");
  // Autovacuum's work, done now: dead hour blocks (merged into day blocks) and compacted narrow rows become free space.
  for (const t of ["samples", "sample_blocks", "rollup_1m", "rollup_1h"]) await sql`VACUUM (ANALYZE) ${sql.table(t)}`.execute(db);
  const [blocks, m1, h1, samplesVacuumed] = [await tableBytes(db, "sample_blocks"), await tableBytes(db, "rollup_1m"), await tableBytes(db, "rollup_1h"), await tableBytes(db, "samples")];
  await maintenance(db).run(Date.now()); // the next scheduled run: truncates the days vacuum emptied
  const samplesLeft = await tableBytes(db, "samples");
  await sql`VACUUM FULL sample_blocks`.execute(db); // the blocks alone, without the space their hour blocks left
  const packed = await tableBytes(db, "sample_blocks");
  const line = {
    phase: "compression",
    ...m,
    blocks: blocks.rows,
    samples_in_blocks: blocks.points,
    bytes_per_sample_raw_row: round(perPoint(raw), 2),
    bytes_per_sample_compacted: round(perPoint(blocks), 3),
    bytes_per_sample_compacted_before_vacuum: round(perPoint(asLeft), 3),
    bytes_per_sample_compacted_vacuum_full: round(perPoint(packed), 3),
    bytes_per_sample_block_data: round(blocks.data / blocks.points, 3),
    compression_ratio: round(perPoint(raw) / perPoint(blocks), 1),
    rollup_1m_bytes_per_bucket: round(perPoint(m1), 2),
    rollup_1h_bytes_per_bucket: round(perPoint(h1), 2),
    samples_bytes_after_compaction_vacuum: samplesVacuumed.total,
    samples_bytes_after_next_maintenance: samplesLeft.total,
    samples_rows_left: samplesLeft.rows,
  };
  emit(line);
  return line;
}

async function queriesPhase(o: Options, store: OpenDatabase, dbUrl: string, track: (c: CollectorProc | undefined) => void) {
  const f = loadFixture();
  const db = store.db;
  const idx = f.series.findIndex((s) => s.metric === QUERY_METRIC.metric && JSON.stringify(s.labels) === JSON.stringify(QUERY_METRIC.labels));
  if (idx < 0) throw new Error("the fixture has no total CPU idle series");
  const ids = await createHosts(db, "bench-q-", o["query-hosts"], [f.series[idx]!]);
  const hosts = Array.from({ length: o["query-hosts"] }, (_, i) => new ReplayHost(f, 2000 + i, [idx]));
  const ticks = (o["query-days"] * DAY_MS) / TICK_MS;
  const lastMs = Math.floor(Date.now() / TICK_MS) * TICK_MS - TICK_MS;
  const loaded = await load(db, lastMs - (ticks - 1) * TICK_MS, ticks, hosts, ids, [idx]);
  const raw = await tableBytes(db, "samples");
  emit({ phase: "queries-load", hosts: o["query-hosts"], days: o["query-days"], ...loaded, bytes_per_sample_raw_row: round(perPoint(raw), 2) });

  const series = ids.map((x) => ({ id: x[0]!, intervalMs: TICK_MS }));
  const range = (ms: number) => ({ startMs: lastMs - ms, endMs: lastMs, stepMs: defaultStep(ms) });
  const [d1, d30] = [DAY_MS, o["query-days"] * DAY_MS];
  const nonEmpty = (n: number) => {
    if (n === 0) throw new Error("the reference read no points");
  };
  const r24 = await timed(o.reps, () => referenceRead(db, series.slice(0, 1), range(d1)), nonEmpty);
  const r30 = await timed(o.reps, () => referenceRead(db, series.slice(0, 1), range(d30)), nonEmpty);
  const r100 = await timed(o.reps, () => referenceRead(db, series, range(d30)), nonEmpty);
  const ref = { ref_query_24h_1series_ms: r24.ms, ref_query_30d_1series_ms: r30.ms, ref_query_30d_100hosts_avg_ms: r100.ms };
  const runs = { ref_query_24h_1series: r24.runs, ref_query_30d_1series: r30.runs, ref_query_30d_100hosts_avg: r100.runs };
  emit({ phase: "reference", table: "samples (narrow, uncompacted)", steps_s: { "24h": range(d1).stepMs / 1000, "30d": range(d30).stepMs / 1000 }, ...ref, runs });

  const m = await runMaintenance(db, Date.now());
  emit({ phase: "queries-maintenance", ...m });

  const collector = await startCollector({ databaseUrl: dbUrl, args: ["--log-level", "debug"] });
  track(collector);
  // Its own first maintenance runs 5 s after start: let it finish (it has next to nothing left) before timing.
  await collector.waitForLog((l) => typeof l.msg === "string" && l.msg.startsWith("storage maintenance "), 120_000);
  const api = async (host: string | undefined, rangeMs: number, step: number | undefined, wantSeries: number) => {
    const q = new URLSearchParams({ metric: QUERY_METRIC.metric, "match[state]": "idle", agg: "avg" });
    if (host) q.set("host", host);
    q.set("end", String(lastMs / 1000));
    q.set("start", String((lastMs - rangeMs) / 1000));
    if (step) q.set("step", String(step / 1000));
    const url = `${collector.httpUrl}/api/v1/query_range?${q}`;
    const t = await timed(
      o.reps,
      async () => {
        const r = await fetch(url);
        if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${await r.text()}`);
        return (await r.json()) as { series: { points: unknown[] }[] };
      },
      (b) => {
        if (b.series.length !== wantSeries || b.series.some((s) => s.points.length === 0)) throw new Error(`${url}: ${b.series.length} series, expected ${wantSeries} with points`);
      },
    );
    return t.ms;
  };
  const host0 = "bench-q-0";
  const all = o["query-hosts"];
  // Right after compaction its deleted narrow rows are dead tuples that reads still step over, until (auto)vacuum.
  const beforeVacuum = { query_24h_1series_ms: await api(host0, d1, undefined, 1), query_30d_1series_ms: await api(host0, d30, undefined, 1) };
  emit({ phase: "queries-before-vacuum", via: "HTTP API", ...beforeVacuum });
  for (const t of ["samples", "sample_blocks", "rollup_1m", "rollup_1h"]) await sql`VACUUM (ANALYZE) ${sql.table(t)}`.execute(db);
  const out = {
    query_24h_1series_ms: await api(host0, d1, undefined, 1),
    query_24h_1series_step1m_ms: await api(host0, d1, 60_000, 1),
    query_30d_1series_ms: await api(host0, d30, undefined, 1),
    query_30d_1series_step1h_ms: await api(host0, d30, HOUR_MS, 1),
    query_30d_100hosts_avg_ms: await api(undefined, d30, undefined, all),
    query_30d_100hosts_avg_step1h_ms: await api(undefined, d30, HOUR_MS, all),
  };
  await collector.kill();
  track(undefined);
  emit({ phase: "queries", via: "HTTP API", default_steps_s: { "24h": defaultStep(d1) / 1000, "30d": defaultStep(d30) / 1000 }, ...out });
  return { ...out, ...ref, queries_maintenance_samples_per_s: m.compact_samples_per_s };
}

async function main(): Promise<void> {
  if (!process.env.DATABASE_URL) throw new Error("DATABASE_URL must be set (e.g. postgres://postgres@127.0.0.1:5432/test)");
  const o = options();
  const dbs: TestDatabase[] = [];
  const stores: OpenDatabase[] = [];
  let collector: CollectorProc | undefined;
  const cleanup = async () => {
    await collector?.kill();
    for (const s of stores.splice(0)) await s.close().catch(() => {});
    for (const d of dbs.splice(0)) await d.drop().catch((e: unknown) => process.stderr.write(`bench:storage: drop failed: ${String(e)}\n`));
  };
  process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));
  const fresh = async () => {
    const d = await createTestDatabase();
    dbs.push(d);
    const s = await openDatabase({ databaseUrl: d.url, dataDir: "", poolSize: 4 });
    stores.push(s);
    await migrate(s.db);
    return { d, s };
  };
  try {
    const started = performance.now();
    const c = await fresh();
    const comp = await compressionPhase(o, c.s);
    await cleanup(); // frees the disk before the bigger phase
    const q = await fresh();
    const qr = await queriesPhase(o, q.s, q.d.url, (x) => (collector = x));
    const summary = {
      bytes_per_sample_raw_row: comp.bytes_per_sample_raw_row,
      bytes_per_sample_compacted: comp.bytes_per_sample_compacted,
      compression_ratio: comp.compression_ratio,
      compact_samples_per_s: comp.compact_samples_per_s,
      ...qr,
      targets: TARGETS,
      meets_targets: {
        bytes_per_sample_compacted: comp.bytes_per_sample_compacted <= TARGETS.bytes_per_sample_compacted,
        query_30d_1series_ms: qr.query_30d_1series_ms <= TARGETS.query_30d_1series_ms,
        query_24h_1series_ms: qr.query_24h_1series_ms <= TARGETS.query_24h_1series_ms,
      },
      ...o,
      seconds: round((performance.now() - started) / 1000, 1),
    };
    emit(summary);
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:storage: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
