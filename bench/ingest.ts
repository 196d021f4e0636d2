// Ingest benchmark: N simulated agents stream over real gRPC to the real collector binary (a child process) on a fresh
// Postgres database, compared with the raw ceiling: the same rows bulk-inserted on one connection with the very SQL the
// collector uses (`insertSamples`; the collector's commits also carry its hosts update in the same statement). The
// collector commits on ingest.writer_connections connections at once, so it can pass that ceiling. Prints one JSON line
// per phase; the last line is the summary.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test pnpm bench:ingest [--agents 50] [--series 500] [--rows 2000000]
//     [--window 8] [--collector-cpu-prof DIR]     (env: BENCH_AGENTS, BENCH_SERIES, BENCH_ROWS, BENCH_WINDOW)
import { readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { AgentMessageSchema, IngestClient, type AgentMessage, type CollectorMessage } from "@vigil/proto";
import pg from "pg";
import { openDatabase } from "../collector/src/storage/database.js";
import { insertSamples } from "../collector/src/storage/sample-writer.js";
import { createTestDatabase } from "../test/support/postgres.js";
import { startCollector, type CollectorProc } from "../test/support/processes.js";

const RAW_BATCH_ROWS = 10_000;
const TARGET_RATIO = 0.9;
const STEP_MS = 1000;
const DAY = 86_400_000;

const DEFAULTS = { agents: 50, series: 500, rows: 2_000_000, window: 8 };
type Options = Record<keyof typeof DEFAULTS, number> & { cpuProfDir: string | undefined };

function options(): Options {
  const str = { type: "string" } as const;
  const { values } = parseArgs({ options: { agents: str, series: str, rows: str, window: str, "collector-cpu-prof": str } });
  const int = (k: keyof typeof DEFAULTS): number => {
    const raw = values[k] ?? process.env[`BENCH_${k.toUpperCase()}`] ?? String(DEFAULTS[k]);
    const n = Number(raw.replaceAll("_", ""));
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${k} / BENCH_${k.toUpperCase()}: expected a positive integer, got ${JSON.stringify(raw)}`);
    return n;
  };
  return { agents: int("agents"), series: int("series"), rows: int("rows"), window: int("window"), cpuProfDir: values["collector-cpu-prof"] };
}

const emit = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
process.stdout.on("error", () => {}); // a closed pipe (| head) must not skip the cleanup that drops the database
const round = (x: number, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;

const readOr = (path: string): string => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return ""; // the process exited meanwhile
  }
};

/** CPU seconds (user+sys) per component from now to the returned function's call: where a phase's cycles went. Linux /proc. */
function cpuMeter(collectorPid: number | undefined): () => Record<string, number> {
  const secs = (pid: string) => {
    const f = readOr(`/proc/${pid}/stat`).split(") ")[1]?.split(" ");
    return f ? (Number(f[11]) + Number(f[12])) / 100 : 0; // utime + stime, USER_HZ ticks
  };
  // Every postgres process (backends, WAL writer, checkpointer; other clients' too): the server's cost of the phase.
  const postgres = () => readdirSync("/proc").reduce((n, d) => n + (/^\d+$/.test(d) && readOr(`/proc/${d}/comm`) === "postgres\n" ? secs(d) : 0), 0);
  const snap = () => ({ bench: process.cpuUsage(), collector: collectorPid ? secs(String(collectorPid)) : 0, postgres: postgres() });
  const a = snap();
  return () => {
    const b = snap();
    const bench = (b.bench.user + b.bench.system - a.bench.user - a.bench.system) / 1e6;
    return { bench: round(bench, 2), collector: round(b.collector - a.collector, 2), postgres: round(b.postgres - a.postgres, 2) };
  };
}

async function query<R extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(text, params)).rows;
  } finally {
    await c.end();
  }
}

/** Raw ceiling: the same shape of rows (per tick, one host's series; hosts interleaved as the writer coalesces them). */
async function rawPhase(url: string, o: Options, batchesPerAgent: number, baseMs: number, collectorPid?: number): Promise<number> {
  // Its own hosts and series so its rows can never conflict with the agents'.
  await query(url, `INSERT INTO hosts (name, agent_id) SELECT 'bench-raw-' || g, 'bench-raw-' || g FROM generate_series(1, $1) g`, [o.agents]);
  const created = await query<{ id: string }>(
    url,
    `INSERT INTO series (host_id, metric, labels) SELECT h.id, 'bench.metric.' || (i % 25), jsonb_build_object('idx', i::text)
     FROM hosts h CROSS JOIN generate_series(1, $1) i WHERE h.name LIKE 'bench-raw-%' ORDER BY h.id, i RETURNING id`,
    [o.series],
  );
  const ids = created.map((x) => Number(x.id));
  // Build every chunk before timing, so only the inserts are measured.
  const chunks: { t: number[]; s: number[]; v: number[] }[] = [];
  let cur = { t: [] as number[], s: [] as number[], v: [] as number[] };
  for (let seq = 1; seq <= batchesPerAgent; seq++) {
    for (let a = 0; a < o.agents; a++) {
      for (let k = 0; k < o.series; k++) {
        // Two days on: a partition of its own (the collector makes them up to the day after tomorrow), as empty as e2e's.
        cur.t.push(baseMs + 2 * DAY + seq * STEP_MS);
        cur.s.push(ids[a * o.series + k]!);
        cur.v.push(k + seq / 1000);
        if (cur.t.length === RAW_BATCH_ROWS) chunks.push(cur), (cur = { t: [], s: [], v: [] });
      }
    }
  }
  if (cur.t.length > 0) chunks.push(cur);
  const store = await openDatabase({ databaseUrl: url, dataDir: "", poolSize: 1 });
  try {
    await query(url, "CHECKPOINT"); // each phase starts with no dirty buffers and a fresh WAL budget (no mid-phase checkpoint)
    const cpu = cpuMeter(collectorPid);
    const t0 = performance.now();
    for (const ch of chunks) await insertSamples(store.db, ch.t, ch.s, ch.v);
    const seconds = (performance.now() - t0) / 1000;
    const cpu_s = cpu();
    const rows = chunks.reduce((n, ch) => n + ch.t.length, 0);
    const rate = rows / seconds;
    emit({ phase: "raw", rows, batch_rows: RAW_BATCH_ROWS, seconds: round(seconds, 3), raw_rows_per_s: round(rate), cpu_s });
    return rate;
  } finally {
    await store.close();
  }
}

/**
 * Connects, says Hello and resolves once Welcome arrives, so all agents can start sending together. `run` sends every
 * batch, keeping at most `window` unacked, and resolves at the last ack (performance.now()).
 */
async function connectAgent(address: string, i: number, o: Options, batches: number, baseMs: number): Promise<{ run(): Promise<number>; close(): void }> {
  // A local subchannel pool gives each agent its own HTTP/2 connection, as separate hosts would have.
  const client = new IngestClient(address, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
  const call = client.connect(new grpc.Metadata());
  const name = `bench-agent-${i}`;
  const refs = Array.from({ length: o.series }, (_, k) => k + 1);
  const values = refs.map((r) => r * 1.5 + i);
  const declare = refs.map((ref) => ({ ref, metric: `bench.metric.${ref % 25}`, labels: { host: name, idx: String(ref) } }));
  let onWelcome: () => void = () => {};
  let onAck: () => void = () => {};
  let onError: (e: Error) => void = () => {};
  // Slow is ignored: the window already bounds what is in flight, and the bench measures the ceiling.
  call.on("data", (m: CollectorMessage) => {
    if (m.msg.case === "welcome") onWelcome();
    else if (m.msg.case === "ack" && m.msg.value.rejected) onError(new Error(`${name}: seq ${m.msg.value.seq} rejected: ${m.msg.value.rejected}`));
    else if (m.msg.case === "ack") onAck();
  });
  call.on("error", (e: grpc.ServiceError) => onError(new Error(`${name}: ${grpc.status[e.code]}: ${e.details}`)));
  const welcomed = new Promise<void>((res, rej) => ((onWelcome = res), (onError = rej)));
  const hello = { agentId: name, hostname: name, agentVersion: "bench", intervalMs: 10_000, os: "linux", cpuCount: 2 };
  call.write(create(AgentMessageSchema, { msg: { case: "hello", value: hello } }));
  await welcomed;
  const batch = (seq: number): AgentMessage =>
    create(AgentMessageSchema, {
      msg: { case: "batch", value: { seq: BigInt(seq), timeMs: BigInt(baseMs + seq * STEP_MS), declare: seq === 1 ? declare : [], refs, values } },
    });
  return {
    run: () =>
      new Promise<number>((res, rej) => {
        let next = 1;
        let acked = 0;
        const pump = () => {
          while (next <= batches && next - 1 - acked < o.window) call.write(batch(next++));
        };
        onError = rej;
        onAck = () => {
          if (++acked === batches) res(performance.now());
          else pump();
        };
        pump();
      }),
    close: () => {
      call.end();
      call.cancel();
      client.close();
    },
  };
}

async function e2ePhase(url: string, address: string, o: Options, batches: number, baseMs: number, collectorPid?: number): Promise<number> {
  await query(url, "CHECKPOINT");
  const tc = performance.now();
  const agents = await Promise.all(Array.from({ length: o.agents }, (_, i) => connectAgent(address, i, o, batches, baseMs)));
  const connectSeconds = (performance.now() - tc) / 1000;
  try {
    const cpu = cpuMeter(collectorPid);
    const t0 = performance.now();
    const ends = await Promise.all(agents.map((a) => a.run()));
    const seconds = (Math.max(...ends) - t0) / 1000;
    const cpu_s = cpu();
    const rows = batches * o.agents * o.series;
    // Acks mean committed: check the rows are really there.
    const stored = await query<{ n: string }>(
      url,
      `SELECT count(*) AS n FROM samples WHERE series_id IN (SELECT s.id FROM series s JOIN hosts h ON h.id = s.host_id WHERE h.name LIKE 'bench-agent-%')`,
    );
    const rate = rows / seconds;
    emit({
      phase: "e2e", agents: o.agents, series_per_agent: o.series, window: o.window, batches: batches * o.agents, rows,
      stored_rows: Number(stored[0]!.n), connect_seconds: round(connectSeconds, 3), seconds: round(seconds, 3), e2e_samples_per_s: round(rate), cpu_s,
    });
    return rate;
  } finally {
    for (const a of agents) a.close();
  }
}

/** A data: module that profiles the process it is preloaded into and writes DIR/collector-PID.cpuprofile on exit. */
function cpuProfPreload(dir: string): string {
  const code = `import { Session } from "node:inspector"; import { writeFileSync } from "node:fs";
const s = new Session(); s.connect(); s.post("Profiler.enable"); s.post("Profiler.start");
process.on("exit", () => s.post("Profiler.stop", (e, r) => { if (r) writeFileSync(${JSON.stringify(dir)} + "/collector-" + process.pid + ".cpuprofile", JSON.stringify(r.profile)); }));`;
  return `data:text/javascript,${encodeURIComponent(code)}`;
}

async function main(): Promise<void> {
  if (!process.env.DATABASE_URL) throw new Error("DATABASE_URL must be set (e.g. postgres://postgres@127.0.0.1:5432/test)");
  const o = options();
  const batchesPerAgent = Math.ceil(o.rows / (o.agents * o.series));
  const rows = batchesPerAgent * o.agents * o.series;
  // Ticks end a little before now: inside the partitions the collector creates at start, so no DDL while timing.
  const baseMs = Math.floor(Date.now() / STEP_MS) * STEP_MS - (batchesPerAgent + 60) * STEP_MS;
  if (Date.now() - baseMs > DAY) throw new Error("too many batches per agent for one day of ticks; add agents or series");
  const db = await createTestDatabase();
  let collector: CollectorProc | undefined;
  try {
    const nodeOptions = process.env.NODE_OPTIONS;
    // NODE_OPTIONS reaches only the child (restored right after the spawn); --cpu-prof is refused there, hence a preload.
    if (o.cpuProfDir) process.env.NODE_OPTIONS = `${nodeOptions ?? ""} --import=${cpuProfPreload(o.cpuProfDir)}`.trim();
    const started = startCollector({ databaseUrl: db.url });
    if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = nodeOptions;
    collector = await started;
    // Raw first, on the schema the collector migrated; each phase fills its own empty day partition.
    const raw = await rawPhase(db.url, o, batchesPerAgent, baseMs, collector.child.pid);
    const e2e = await e2ePhase(db.url, collector.grpcAddress, o, batchesPerAgent, baseMs, collector.child.pid);
    const ratio = round(e2e / raw, 3);
    emit({
      e2e_samples_per_s: round(e2e), raw_rows_per_s: round(raw), ratio, target: TARGET_RATIO, meets_target: ratio >= TARGET_RATIO,
      agents: o.agents, rows, series_per_agent: o.series, window: o.window,
    });
  } finally {
    await collector?.kill();
    await db.drop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:ingest: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
