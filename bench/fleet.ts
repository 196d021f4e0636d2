// Fleet benchmark: N concurrent agent streams (default 10,000) to ONE collector (the real binary, a child process) on a
// fresh Postgres database. Each stream says Hello as its own host, declares ~100 series and sends one batch per
// interval, the streams spread evenly over the interval; seq numbers and acks are counted. The collector runs with one
// threshold rule (bench.fire > 10, which every host sends at 0); 20 streams push it to 20 at known send times during
// the steady phase, and fire latency is send → the alert `firing` in GET /api/v1/alerts?state=firing (polled back to
// back while a crossing is outstanding, as bench/alerts.ts does).
//
// The streams live in forked workers (bench/fleet-agents.ts; two by default above 4,000 streams, as one Node process
// spends about as much CPU encoding and timing the batches as the collector decoding them). Each worker shares a few
// grpc-js channels among its streams (`--per-channel` streams per HTTP/2 connection, default 250), not a TCP connection
// per stream: see the worker's opening comment. So the collector holds many streams on few connections, and
// rss_kb_per_stream is per stream (its session state, series maps, buffers), not per socket. No reference is printed:
// there is no other collector here to run the same fleet against, and an idle socket's cost is not what is measured.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test pnpm bench:fleet [--streams 10000] [--interval 10]
//     [--duration 60] [--workers 2] [--per-channel 250] [--crossers 20] [--drain 15] [--settle 60]    (env: BENCH_STREAMS, …)
import { fork, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createTestDatabase, type TestDatabase } from "../test/support/postgres.js";
import { getJson, startCollector, type CollectorProc } from "../test/support/processes.js";
import type { FromWorker, ToWorker, WorkerInit, WorkerReport } from "./fleet-agents.js";

const DEFAULTS = { streams: 10_000, interval: 10, duration: 60, workers: 0, "per-channel": 250, crossers: 20, drain: 15, settle: 60 };
type Key = keyof typeof DEFAULTS;
const TARGET_RSS_KB_PER_STREAM = 50;
const TARGET_FIRE_P99_MS = 250;
const SERIES = 100;

function options(): Record<Key, number> {
  const str = { type: "string" } as const;
  const keys = Object.keys(DEFAULTS) as Key[];
  const { values } = parseArgs({ options: Object.fromEntries(keys.map((k) => [k, str])) as Record<Key, typeof str> });
  const out = { ...DEFAULTS };
  for (const k of keys) {
    const env = `BENCH_${k.toUpperCase().replace("-", "_")}`;
    const raw = values[k] ?? process.env[env] ?? String(DEFAULTS[k]);
    const n = Number(raw.replaceAll("_", ""));
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${k} / ${env}: expected a non-negative number, got ${JSON.stringify(raw)}`);
    out[k] = n;
  }
  if (out.workers === 0) out.workers = out.streams > 4000 ? 2 : 1;
  return out;
}

const emit = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
process.stdout.on("error", () => {}); // a closed pipe (| head) must not skip the cleanup that drops the database
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const pct = (xs: number[], p: number) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const readOr = (path: string): string => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return ""; // the process exited meanwhile
  }
};
/** Resident set (kB) and CPU ms (utime+stime, USER_HZ = 100) of a process, from Linux /proc. */
const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readOr(`/proc/${pid}/status`))?.[1] ?? NaN);
const cpuMs = (pid: number) => {
  const f = readOr(`/proc/${pid}/stat`).split(") ")[1]?.split(" ");
  return f ? (Number(f[11]) + Number(f[12])) * 10 : NaN;
};

/** CPU ms of every postgres process (other clients' too): tells whether Postgres, not the collector, is the limit. */
/** Per process, so backends that exit within the phase do not count negative (their last part is lost instead). */
const postgresCpu = () => new Map(readdirSync("/proc").filter((d) => /^\d+$/.test(d) && readOr(`/proc/${d}/comm`) === "postgres\n").map((d) => [d, cpuMs(Number(d)) || 0]));
const cpuDelta = (a: Map<string, number>, b: Map<string, number>) => [...b].reduce((n, [pid, ms]) => n + ms - (a.get(pid) ?? 0), 0);

async function metric(c: CollectorProc, name: string): Promise<number> {
  const text = await (await fetch(`${c.httpUrl}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
}

/** Matches crossings (host, send time) with the alerts seen firing; polls only while one is outstanding. */
class FireWatch {
  readonly latencies: number[] = [];
  private outstanding = new Map<string, { at: number; mustClear: boolean }>();
  private firing = new Set<string>();
  private running = true;
  private readonly loop: Promise<void>;
  polls = 0;
  errors = 0;

  constructor(private readonly url: string) {
    this.loop = this.run();
  }

  cross(host: string, at: number): void {
    // Still firing from the last crossing (its resolve not yet evaluated): not a fire until seen cleared.
    this.outstanding.set(host, { at, mustClear: this.firing.has(host) });
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (this.outstanding.size === 0) {
        await sleep(5);
        continue;
      }
      let alerts: { rule: string; labels: Record<string, string> }[];
      try {
        alerts = (await getJson<{ alerts: { rule: string; labels: Record<string, string> }[] }>(`${this.url}/api/v1/alerts?state=firing`)).alerts;
      } catch {
        this.errors++;
        await sleep(50);
        continue;
      }
      const seenAt = Date.now();
      this.polls++;
      this.firing = new Set(alerts.filter((a) => a.rule === "bench-fire").map((a) => a.labels.host ?? ""));
      for (const [host, o] of this.outstanding) {
        if (o.mustClear) o.mustClear = this.firing.has(host);
        else if (this.firing.has(host)) this.latencies.push(seenAt - o.at), this.outstanding.delete(host);
      }
    }
  }

  async stop(): Promise<number> {
    this.running = false;
    await this.loop;
    return this.outstanding.size; // crossings never seen firing
  }
}

interface Worker {
  child: ChildProcess;
  next<T extends FromWorker["type"]>(type: T): Promise<Extract<FromWorker, { type: T }>>;
  send(m: ToWorker): void;
}

function startWorker(onCross: (host: string, at: number) => void): Worker {
  // Inherits this process's execArgv (--import tsx), so the worker runs from its .ts source.
  const child = fork(join(import.meta.dirname, "fleet-agents.ts"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const waiters = new Map<string, (m: FromWorker) => void>();
  child.on("message", (m: FromWorker) => {
    if (m.type === "cross") onCross(m.host, m.at);
    else waiters.get(m.type)?.(m);
  });
  const exited = new Promise<never>((_, rej) => child.once("exit", (code) => rej(new Error(`fleet worker ${child.pid} exited (${code})`))));
  exited.catch(() => {});
  return {
    child,
    next: <T extends FromWorker["type"]>(type: T) =>
      Promise.race([new Promise<Extract<FromWorker, { type: T }>>((res) => waiters.set(type, (m) => res(m as Extract<FromWorker, { type: T }>))), exited]),
    send: (m) => void child.send(m),
  };
}

async function main(): Promise<void> {
  if (!process.env.DATABASE_URL) throw new Error("DATABASE_URL must be set (e.g. postgres://postgres@127.0.0.1:5432/test)");
  const o = options();
  const intervalMs = o.interval * 1000;
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-fleet-"));
  const workers: Worker[] = [];
  let db: TestDatabase | undefined;
  let collector: CollectorProc | undefined;
  let watch: FireWatch | undefined;
  try {
    mkdirSync(join(dir, "rules"));
    writeFileSync(join(dir, "rules/bench.yaml"), 'rules:\n  - { name: bench-fire, kind: threshold, metric: bench.fire, critical: { op: ">", value: 10 }, for: 0s }\n');
    // One interval of the whole fleet may queue (10,000 × 100 rows) while Postgres catches up, instead of Slow/refusals.
    const queued = Math.max(200_000, 2 * o.streams * SERIES);
    writeFileSync(join(dir, "collector.yaml"), `rules_dir: ${join(dir, "rules")}\ningest:\n  max_queued_rows: ${queued}\n`);
    db = await createTestDatabase();
    collector = await startCollector({ databaseUrl: db.url, dataDir: join(dir, "data"), args: ["--config", join(dir, "collector.yaml")] });
    const pid = collector.child.pid!;
    await sleep(2000); // past start-up (migrations, rule load) before the baseline
    const rssBefore = rssKb(pid);
    emit({ phase: "baseline", collector_rss_mb: round(rssBefore / 1024) });

    const w = watch = new FireWatch(collector.httpUrl);
    const t0 = Date.now();
    const per = Math.ceil(o.streams / o.workers);
    for (let k = 0; k < o.workers; k++) {
      const wk = startWorker((host, at) => w.cross(host, at));
      workers.push(wk);
      const init: WorkerInit = {
        address: collector.grpcAddress, first: k * per, count: Math.max(0, Math.min(per, o.streams - k * per)),
        channels: Math.max(1, Math.ceil(Math.min(per, o.streams - k * per) / o["per-channel"])), intervalMs, series: SERIES, crossers: o.crossers,
      };
      wk.send({ type: "init", init });
    }
    const ups = await Promise.all(workers.map((wk) => wk.next("up")));
    const up = ups.reduce((n, u) => n + u.up, 0);
    const failed = ups.reduce((n, u) => n + u.failed, 0);
    await sleep(intervalMs); // one full interval: every stream has sent its declaring batch
    emit({
      phase: "ramp-up", streams: up, failed, seconds: round((Date.now() - t0) / 1000 - o.interval, 2),
      collector_streams: await metric(collector, "vigil_ingest_streams"), collector_rss_mb: round(rssKb(pid) / 1024),
      rss_kb_per_stream: round((rssKb(pid) - rssBefore) / up), errors: ups.flatMap((u) => u.errors).slice(0, 5),
    });
    if (up === 0) throw new Error(`no stream opened: ${ups.flatMap((u) => u.errors).slice(0, 3).join("; ")}`);

    // Settle: the ramp's declaring batches (and the Hellos' writes) leave a backlog; the steady phase starts once the
    // write queue is back under a tenth of an interval's rows, or after --settle seconds if it never is (then say so).
    const ts = Date.now();
    let queue = await metric(collector, "vigil_write_queue_rows");
    while (queue > (up * SERIES) / 10 && Date.now() - ts < o.settle * 1000) await sleep(500), (queue = await metric(collector, "vigil_write_queue_rows"));
    emit({ phase: "settle", seconds: round((Date.now() - ts) / 1000, 2), write_queue_rows: queue, settled: queue <= (up * SERIES) / 10 });

    for (const wk of workers) wk.send({ type: "steady" });
    const cpu0 = cpuMs(pid);
    const pg0 = postgresCpu();
    const rows0 = await metric(collector, "vigil_storage_committed_rows_total");
    const s0 = Date.now();
    await sleep(o.duration * 1000);
    const cpu1 = cpuMs(pid);
    const pg1 = postgresCpu();
    const rows1 = await metric(collector, "vigil_storage_committed_rows_total");
    const seconds = (Date.now() - s0) / 1000;
    const rssSteady = rssKb(pid);
    const openAtEnd = await metric(collector, "vigil_ingest_streams");
    const samples = rows1 - rows0;
    const cpuPer1k = round(((cpu1 - cpu0) / samples) * 1000, 2);
    emit({
      phase: "steady", seconds: round(seconds, 2), collector_streams: openAtEnd, samples_committed: samples,
      samples_per_s: round(samples / seconds, 0), offered_samples_per_s: round((up * SERIES) / o.interval, 0),
      collector_cpu_ms: cpu1 - cpu0, collector_cpu_pct: round((cpu1 - cpu0) / (seconds * 10)),
      postgres_cpu_pct: round(cpuDelta(pg0, pg1) / (seconds * 10)), collector_rss_mb: round(rssSteady / 1024),
    });

    const unseen = await watch.stop();
    for (const wk of workers) wk.send({ type: "stop", drainMs: o.drain * 1000 });
    const reports: WorkerReport[] = (await Promise.all(workers.map((wk) => wk.next("report")))).map((r) => r.report);
    const sum = (f: (r: WorkerReport) => number) => reports.reduce((n, r) => n + f(r), 0);
    const steadyAcks = reports.flatMap((r) => r.ackMs.steady);
    const rampAcks = reports.flatMap((r) => r.ackMs.ramp);
    const fire = watch.latencies;
    emit({
      phase: "drain", sent: sum((r) => r.sent), acked: sum((r) => r.acked), rejected: sum((r) => r.rejected), slow: sum((r) => r.slow),
      ramp_ack_p99_ms: round(pct(rampAcks, 99)), crossings: fire.length, crossings_never_seen_firing: unseen, alert_polls: watch.polls,
      errors: reports.flatMap((r) => r.errors).slice(0, 5),
    });
    const rssPerStream = round((rssSteady - rssBefore) / up);
    const fireP99 = round(pct(fire, 99));
    emit({
      streams: Math.min(openAtEnd, sum((r) => r.open)),
      collector_rss_mb: round(rssSteady / 1024),
      rss_kb_per_stream: rssPerStream,
      collector_cpu_ms_per_1k_samples: cpuPer1k,
      ack_p50_ms: round(pct(steadyAcks, 50)),
      ack_p99_ms: round(pct(steadyAcks, 99)),
      lost_batches: sum((r) => r.sent - r.acked),
      fire_p50_ms: round(pct(fire, 50)),
      fire_p99_ms: fireP99,
      crossings: fire.length,
      crossings_never_seen_firing: unseen,
      target_rss_kb_per_stream: TARGET_RSS_KB_PER_STREAM,
      meets_rss_target: rssPerStream <= TARGET_RSS_KB_PER_STREAM,
      target_fire_p99_ms: TARGET_FIRE_P99_MS,
      meets_fire_target: fire.length > 0 && fireP99 <= TARGET_FIRE_P99_MS,
      streams_requested: o.streams, interval_s: o.interval, duration_s: o.duration, series_per_stream: SERIES, workers: o.workers, per_channel: o["per-channel"],
    });
  } finally {
    await watch?.stop();
    for (const wk of workers) wk.child.kill(); // its streams go with it; the collector is killed next anyway
    await collector?.kill();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:fleet: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
