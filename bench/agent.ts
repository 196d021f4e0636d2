// Agent footprint vs node_exporter: CPU per tick/scrape and RSS, measured from /proc of the real processes.
//   BENCH_TICKS (default 60) measured ticks/scrapes at 1 s, after BENCH_WARMUP (default 20: V8 runs a one-off full
//   GC ~15 s after start, which would otherwise land in the window; VmHWM still shows the start-up peak).
//   DATABASE_URL: use that PostgreSQL instead of embedded PGlite in a temp dir.
// Prints one JSON line per measurement and a summary as the LAST line.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getJson, startAgent, startCollector, type Proc } from "../test/support/processes.js";

const TICKS = positiveInt("BENCH_TICKS", 60);
const WARMUP = positiveInt("BENCH_WARMUP", 20);
const NODE_EXPORTER = "/usr/bin/prometheus-node-exporter";
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
const MB = 1024 * 1024;

function positiveInt(name: string, def: number): number {
  const v = Number(process.env[name] ?? def);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer`);
  return v;
}

const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/**
 * Sleeps until the next whole second + 500 ms: mid-way between the agent's wall-clock-aligned ticks. At least 200 ms
 * away, so a timer firing a hair early (X.499) cannot count the same half-second twice.
 */
function midTick(): Promise<void> {
  const d = 1000 - ((Date.now() + 500) % 1000);
  return sleep(d < 200 ? d + 1000 : d);
}
const round = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;

/** CPU ms used by the process itself and by its reaped children (utime+stime, cutime+cstime). */
function cpuMs(pid: number): { user: number; sys: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after "(comm) ": state is [0], so utime..cstime (fields 14–17) are [11]..[14].
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  const ms = (i: number) => ((f[i] ?? 0) * 1000) / CLK_TCK;
  return { user: ms(11), sys: ms(12), children: ms(13) + ms(14) };
}

/** VmRSS, VmHWM (peak RSS) and RssAnon (RSS minus file-backed pages such as node's own binary) in MB. */
function memMb(pid: number): { rss: number; hwm: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: (kb("VmRSS") * 1024) / MB, hwm: (kb("VmHWM") * 1024) / MB, anon: (kb("RssAnon") * 1024) / MB };
}

interface Window {
  cpuMs: number;
  userMs: number;
  childCpuMs: number;
  rssMb: number;
  rssMaxMb: number;
  hwmMb: number;
  anonMb: number;
  startMs: number;
  endMs: number;
}

/** Runs `step` once per second (at mid-tick) `n` times and measures `pid` across those n seconds. */
async function measure(pid: number, n: number, step: () => Promise<void>): Promise<Window> {
  await midTick();
  const startMs = Date.now();
  const c0 = cpuMs(pid);
  let rssMax = memMb(pid).rss;
  for (let i = 0; i < n; i++) {
    await midTick();
    await step();
    rssMax = Math.max(rssMax, memMb(pid).rss);
  }
  const c1 = cpuMs(pid);
  const m = memMb(pid);
  const endMs = Date.now();
  return { startMs, endMs, cpuMs: c1.user + c1.sys - c0.user - c0.sys, userMs: c1.user - c0.user, childCpuMs: c1.children - c0.children, rssMb: m.rss, rssMaxMb: Math.max(rssMax, m.rss), hwmMb: m.hwm, anonMb: m.anon };
}

async function freePort(): Promise<number> {
  const srv = createServer().listen(0, "127.0.0.1");
  await once(srv, "listening");
  const addr = srv.address();
  srv.close();
  if (addr === null || typeof addr === "string") throw new Error("no free port");
  return addr.port;
}

interface SeriesList { series: { metric: string; labels: Record<string, string> }[] }
interface RangeResult { series: { points: [number, number][] }[] }

/** Points the collector stored for `host` at exactly tick `tickMs`, summed over every metric the host has. */
async function pointsAtTick(http: string, host: string, metrics: string[], tickMs: number): Promise<number> {
  let n = 0;
  const t = tickMs / 1000;
  for (const metric of metrics) {
    const q = new URLSearchParams({ metric, host, start: String(t), end: String(t), step: "1s", agg: "last" });
    const r = await getJson<RangeResult>(`${http}/api/v1/query_range?${q}`);
    for (const s of r.series) n += s.points.filter(([ms]) => ms === tickMs).length;
  }
  return n;
}

async function benchAgent(cleanups: (() => Promise<void>)[]): Promise<Record<string, number>> {
  const dataDir = mkdtempSync(join(tmpdir(), "vigil-bench-agent-"));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const databaseUrl = process.env.DATABASE_URL;
  const collector = await startCollector(databaseUrl ? { databaseUrl } : { dataDir });
  cleanups.push(() => collector.kill());
  const host = `bench-agent-${process.pid}`;
  const agent: Proc = startAgent(["--interval", "1s", "--collector", collector.grpcAddress, "--hostname", host]);
  cleanups.push(() => agent.kill());
  const pid = agent.child.pid;
  if (pid === undefined) throw new Error("agent did not start");
  await agent.waitForLog((l) => l.msg === "connected to collector");
  for (let i = 0; i < WARMUP; i++) await midTick();

  const w = await measure(pid, TICKS, async () => undefined);
  const { startMs, endMs } = w;
  await sleep(2000); // let the last tick's batch commit

  // Samples per tick: every point the collector stored at one tick, found by asking query_range for each metric the
  // host has (GET /api/v1/series) with start=end=that tick. Cross-check: the number of series the agent declared.
  const list = await getJson<SeriesList>(`${collector.httpUrl}/api/v1/series?${new URLSearchParams({ host })}`);
  const metrics = [...new Set(list.series.map((s) => s.metric))];
  const lastTick = Math.floor(endMs / 1000) * 1000 - 1000;
  const samples = await pointsAtTick(collector.httpUrl, host, metrics, lastTick);
  // Ticks the collector stored inside the window (system.uptime has one point per tick).
  const q = new URLSearchParams({ metric: "system.uptime", host, start: String(Math.ceil(startMs / 1000)), end: String(Math.floor(endMs / 1000)), step: "1s" });
  const stored = (await getJson<RangeResult>(`${collector.httpUrl}/api/v1/query_range?${q}`)).series[0]?.points.length ?? 0;
  const r = {
    agent_cpu_ms_per_tick: round(w.cpuMs / TICKS),
    agent_user_cpu_ms_per_tick: round(w.userMs / TICKS),
    agent_child_cpu_ms_per_tick: round(w.childCpuMs / TICKS),
    agent_cpu_ms_total: round(w.cpuMs, 1),
    agent_samples_per_tick: samples,
    agent_series: list.series.length,
    agent_rss_mb: round(w.rssMb, 1),
    agent_rss_max_mb: round(w.rssMaxMb, 1),
    agent_vm_hwm_mb: round(w.hwmMb, 1),
    agent_rss_anon_mb: round(w.anonMb, 1),
    ticks: TICKS,
    ticks_stored_in_window: stored,
  };
  emit({ measure: "agent", storage: databaseUrl ? "postgres" : "pglite", clk_tck: CLK_TCK, warmup_ticks: WARMUP, ...r });
  await agent.kill();
  await collector.kill();
  return r;
}

function ensureNodeExporter(): boolean {
  if (existsSync(NODE_EXPORTER)) return true;
  try {
    execFileSync("apt-get", ["update"], { stdio: ["ignore", "ignore", "inherit"] });
    execFileSync("apt-get", ["install", "-y", "prometheus-node-exporter"], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  } catch (err) {
    emit({ measure: "node_exporter", skipped: true, reason: `apt-get install prometheus-node-exporter failed: ${(err as Error).message.split("\n")[0]}` });
    return false;
  }
  if (existsSync(NODE_EXPORTER)) return true;
  emit({ measure: "node_exporter", skipped: true, reason: `${NODE_EXPORTER} missing after apt-get install` });
  return false;
}

async function benchNodeExporter(cleanups: (() => Promise<void>)[]): Promise<Record<string, number> | undefined> {
  if (!ensureNodeExporter()) return undefined;
  const port = await freePort();
  const child: ChildProcess = spawn(NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "ignore"] });
  const exited = once(child, "exit");
  cleanups.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    await exited;
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("node_exporter did not start");
  const url = `http://127.0.0.1:${port}/metrics`;
  let samples = 0;
  const scrape = async () => {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`GET ${url}: ${r.status}`);
    samples = (await r.text()).split("\n").filter((l) => l !== "" && !l.startsWith("#")).length;
  };
  for (let t = Date.now(); ; await sleep(100)) {
    try {
      await scrape();
      break;
    } catch (err) {
      if (Date.now() - t > 10_000 || child.exitCode !== null) throw new Error(`node_exporter not ready: ${(err as Error).message}`);
    }
  }
  for (let i = 0; i < WARMUP; i++) await midTick().then(scrape);
  const w = await measure(pid, TICKS, scrape);
  const r = {
    node_exporter_cpu_ms_per_scrape: round(w.cpuMs / TICKS),
    node_exporter_user_cpu_ms_per_scrape: round(w.userMs / TICKS),
    node_exporter_cpu_ms_total: round(w.cpuMs, 1),
    node_exporter_samples_per_scrape: samples,
    node_exporter_rss_mb: round(w.rssMb, 1),
    node_exporter_rss_max_mb: round(w.rssMaxMb, 1),
    node_exporter_rss_anon_mb: round(w.anonMb, 1),
    scrapes: TICKS,
  };
  emit({ measure: "node_exporter", version: execFileSync(NODE_EXPORTER, ["--version"], { encoding: "utf8" }).split("\n")[0], ...r });
  return r;
}

async function main(): Promise<void> {
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => void cleanup().finally(() => process.exit(130)));
  try {
    const a = await benchAgent(cleanups);
    const n = await benchNodeExporter(cleanups);
    const ratio = n && n.node_exporter_cpu_ms_per_scrape ? round((a.agent_cpu_ms_per_tick ?? 0) / n.node_exporter_cpu_ms_per_scrape) : null;
    emit({
      agent_cpu_ms_per_tick: a.agent_cpu_ms_per_tick,
      agent_samples_per_tick: a.agent_samples_per_tick,
      node_exporter_cpu_ms_per_scrape: n?.node_exporter_cpu_ms_per_scrape ?? null,
      node_exporter_samples_per_scrape: n?.node_exporter_samples_per_scrape ?? null,
      cpu_ratio: ratio,
      agent_rss_mb: a.agent_rss_mb,
      agent_rss_max_mb: a.agent_rss_max_mb,
      agent_vm_hwm_mb: a.agent_vm_hwm_mb,
      ticks: TICKS,
      target_cpu_ratio_le_0_5: ratio === null ? null : ratio <= 0.5,
      target_rss_le_60_mb: (a.agent_rss_max_mb ?? Infinity) <= 60,
    });
  } finally {
    await cleanup();
  }
}

await main();
